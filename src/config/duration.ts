// Prometheus-style duration strings ("500ms", "10s", "1m30s") to milliseconds, as SPEC "Config" requires.

const UNIT_MS: Record<string, number> = {
  y: 365 * 24 * 3600_000,
  w: 7 * 24 * 3600_000,
  d: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
};

// Units must appear at most once and from largest to smallest, as in Prometheus' model.ParseDuration.
const DURATION_RE = /^(?:(\d+)y)?(?:(\d+)w)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?(?:(\d+)ms)?$/;
const UNITS_IN_ORDER = ['y', 'w', 'd', 'h', 'm', 's', 'ms'] as const;

/**
 * The longest duration a config may give (SPEC "Config": 24 days). Node's timers hold at most
 * 2^31-1 ms (about 24.8 days) and fire after 1 ms for anything longer.
 */
export const MAX_DURATION_MS = 24 * 24 * 3600_000;
export const MAX_DURATION_TEXT = '24d';

/** Parses a duration; returns undefined for anything that is not one (including the empty string). */
export function parseDuration(text: string): number | undefined {
  if (text === '' || text === '0') return text === '0' ? 0 : undefined;
  const match = DURATION_RE.exec(text);
  if (!match) return undefined;
  let total = 0;
  UNITS_IN_ORDER.forEach((unit, i) => {
    const amount = match[i + 1];
    if (amount !== undefined) total += Number(amount) * (UNIT_MS[unit] ?? 0);
  });
  return Number.isSafeInteger(total) ? total : undefined;
}

/** Formats milliseconds back into the shortest Prometheus duration string. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of UNITS_IN_ORDER) {
    const size = UNIT_MS[unit] ?? 1;
    const amount = Math.floor(rest / size);
    if (amount > 0) {
      out += `${amount}${unit}`;
      rest -= amount * size;
    }
  }
  return out;
}
