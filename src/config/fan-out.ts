// The `fan_out` key of a target (SPEC "Config"): probe every address the target's name resolves to.
// Kept apart from schema.ts so the rest of the schema stays as it is; schema.ts only plugs it in.

import { z } from 'zod';
import { parseAddressSource } from './address.js';
import { custom } from './cross-field-checks.js';
import { formatDuration, parseDuration } from './duration.js';

/** Re-resolving more often than this is a DNS flood, not freshness. */
const MIN_REFRESH_MS = 1000;
/** Every backend is a label value and a channel: a hard cap keeps both bounded. */
export const MAX_BACKENDS_LIMIT = 1024;

export const fanOutSchema = z.strictObject({
  /** How often the name is resolved again (failures retry sooner, with backoff). */
  refresh: z
    .string({ error: 'expected a duration string such as "30s"' })
    .default('30s')
    .transform((text, ctx) => {
      const ms = parseDuration(text);
      if (ms === undefined) {
        custom(ctx, `invalid duration "${text}" (expected Prometheus units such as 500ms, 10s, 1m30s)`);
        return z.NEVER;
      }
      if (ms < MIN_REFRESH_MS) {
        custom(ctx, `refresh ${text} is too short (at least ${formatDuration(MIN_REFRESH_MS)})`);
        return z.NEVER;
      }
      return ms;
    }),
  /** Addresses beyond this many are counted and warned about, not probed. */
  max_backends: z
    .number({ error: 'expected a whole number' })
    .int({ error: 'expected a whole number' })
    .min(1, { error: 'must be at least 1' })
    .max(MAX_BACKENDS_LIMIT, { error: `must be at most ${MAX_BACKENDS_LIMIT}` })
    .default(64),
});

export type FanOutConfig = { refreshMs: number; maxBackends: number };

/** The resolved form that TargetConfig carries (only on fan-out targets). */
export function resolveFanOut(raw: z.output<typeof fanOutSchema> | undefined): { fanOut?: FanOutConfig } {
  return raw ? { fanOut: { refreshMs: raw.refresh, maxBackends: raw.max_backends } } : {};
}

/**
 * A fan-out target needs something to fan out over: a DNS name or an address list, not a socket.
 * Runs on the whole config after field checks, so it reads the targets defensively.
 */
export function checkFanOutTargets(config: { targets?: unknown }, ctx: z.RefinementCtx): void {
  if (!Array.isArray(config.targets)) return;
  config.targets.forEach((target: { address?: unknown; fan_out?: unknown } | null, i) => {
    if (!target || target.fan_out === undefined || typeof target.address !== 'string') return;
    const source = parseAddressSource(target.address);
    if (typeof source !== 'string' && source.kind === 'unix') {
      custom(ctx, 'fan_out needs a DNS name or an ipv4:/ipv6: address list, not a unix socket', [
        'targets',
        i,
        'fan_out',
      ]);
    }
  });
}
