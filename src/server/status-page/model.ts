// What the status page shows, computed from the status store's snapshot: per target a verdict
// (failing, degraded, healthy), per probe a state a human can read, and the summary line. Pure: the
// renderer turns this into HTML, tests check it without a browser.

import { isFaultDisconnect } from '../../outcome/troubleshooting.js';
import type { ProbeRun, TargetStatus } from '../../status/status-store.js';

export type Verdict = 'failing' | 'degraded' | 'healthy';
export type ProbeState = 'ok' | 'failing' | 'pending';

/** A fan-out backend, once fan-out lands (SPEC "fan_out"): rendered when the JSON has `backends`. */
export interface BackendView {
  backend: string;
  state: string;
  reason?: string;
}

export interface PageOptions {
  /** `alerts.runbook_base_url`: runbook links are `<base>/<Alert>.md`, as in the alert annotations. */
  runbookBaseUrl: string;
  /** `alerts.tls_warning_days` / `tls_critical_days`: the certificate's colour follows the alerts. */
  tlsWarningDays: number;
  tlsCriticalDays: number;
  version: string;
}

export interface ProbeView {
  name: string;
  state: ProbeState;
  /** The word shown next to the colour: SERVING, NOT_SERVING, OK, FAILING, PENDING. */
  label: string;
  /** watch open, watch down, check; undefined for rpc probes. */
  mode?: string;
  reason?: string;
  details?: string;
  grpcCode?: string;
  /** The current run: same verdict and reason since `since`, `count` results. */
  run?: ProbeRun;
  /** Oldest first, for the transition strip. */
  runs: ProbeRun[];
}

export interface TargetView {
  status: TargetStatus;
  verdict: Verdict;
  /** One line saying why the verdict: "2 of 3 probes failing: connection_refused". */
  headline: string;
  probes: ProbeView[];
  backends: BackendView[];
  certDaysLeft?: number;
  /** The newest event of the target (ISO time) and what it was. */
  lastChange?: { time: string; what: string };
}

export interface Summary {
  targets: number;
  byVerdict: Record<Verdict, number>;
  probes: number;
  probesFailing: number;
  backends: number;
  backendsDown: number;
  lastChange?: { time: string; what: string };
}

/** A fault disconnect this recent marks a target degraded even when its probes pass. */
const RECENT_DISCONNECT_MS = 15 * 60_000;
const UP_STATES = new Set(['up', 'ok', 'serving', 'ready', 'healthy']);
const DAY_MS = 86_400_000;

/** "12 days", or hours in the last two days ("23h"), "expired" after. */
export function certLeft(ms: number): string {
  if (ms <= 0) return 'expired';
  if (ms < 2 * DAY_MS) return `${Math.floor(ms / 3_600_000)}h`;
  return `${Math.floor(ms / DAY_MS)} days`;
}

function later(a: { time: string; what: string } | undefined, time: string | undefined, what: string) {
  if (time === undefined) return a;
  return a === undefined || time > a.time ? { time, what } : a;
}

function backendsOf(t: TargetStatus): BackendView[] {
  const raw = (t as { backends?: unknown }).backends;
  if (!Array.isArray(raw)) return [];
  return raw
    .filter((b): b is Record<string, unknown> => typeof b === 'object' && b !== null)
    .map((b) => ({
      backend: String(b.backend ?? b.address ?? '?'),
      state: String(b.state ?? 'unknown'),
      ...(b.reason ? { reason: String(b.reason) } : {}),
    }));
}

export function backendDown(b: BackendView): boolean {
  return !UP_STATES.has(b.state.toLowerCase());
}

function probeViews(t: TargetStatus): ProbeView[] {
  return Object.entries(t.probes).map(([name, p]) => {
    const service = name === 'health' ? '' : name.startsWith('health:') ? name.slice(7) : undefined;
    const health = service === undefined ? undefined : t.health[service];
    const history = p.history ?? [];
    const state: ProbeState = p.lastResultTime === undefined ? 'pending' : p.success ? 'ok' : 'failing';
    // A health probe shows the server's word only when it is the verdict: a failed Check never shows
    // the SERVING of an earlier answer.
    let label = state === 'ok' ? 'OK' : state === 'failing' ? 'FAILING' : 'PENDING';
    if (health && state === 'ok') label = 'SERVING';
    if (health && state === 'failing' && p.lastReason === 'not_serving' && health.status !== 'UNKNOWN')
      label = health.status;
    const failure = t.recentFailures.find((f) => f.probe === name);
    const view: ProbeView = { name, state, label, runs: [...history].reverse() };
    if (health) view.mode = health.watchUp === null ? 'check' : health.watchUp ? 'watch open' : 'watch down';
    if (state === 'failing') {
      view.reason = p.lastReason ?? 'unknown';
      if (p.lastDetails) view.details = p.lastDetails;
      if (failure?.grpcCode) view.grpcCode = failure.grpcCode;
    }
    if (history[0]) view.run = history[0];
    return view;
  });
}

export function targetView(t: TargetStatus, options: PageOptions, now: number): TargetView {
  const probes = probeViews(t);
  const backends = backendsOf(t);
  // A fan-out target's probes run per backend: its own entry has no results, its backends have them.
  const own = backends.length > 0 ? [] : probes;
  const failing = own.filter((p) => p.state === 'failing');
  const down = backends.filter(backendDown);
  const certDaysLeft =
    t.tlsCertExpiry === undefined ? undefined : Math.floor((Date.parse(t.tlsCertExpiry) - now) / DAY_MS);
  const lastFault = t.disconnectHistory?.find((d) => isFaultDisconnect(d.reason));
  const warnings: string[] = [];
  if (down.length > 0) warnings.push(`${down.length} of ${backends.length} backends down`);
  if (certDaysLeft !== undefined && certDaysLeft <= options.tlsWarningDays && t.tlsCertExpiry)
    warnings.push(`certificate expires in ${certLeft(Date.parse(t.tlsCertExpiry) - now)}`);
  const pending = own.filter((p) => p.state === 'pending').length;
  if (pending > 0) warnings.push(`${pending} probe${pending > 1 ? 's' : ''} without a result yet`);
  if (probes.some((p) => p.mode === 'watch down' && p.state === 'ok')) warnings.push('Watch stream down');
  if (lastFault && now - Date.parse(lastFault.last) < RECENT_DISCONNECT_MS)
    warnings.push(`disconnect ${lastFault.reason}${lastFault.count > 1 ? ` ×${lastFault.count}` : ''}`);

  let verdict: Verdict = 'healthy';
  let headline =
    backends.length > 0
      ? `${backends.length - down.length} of ${backends.length} backends up`
      : `${probes.length} probe${probes.length === 1 ? '' : 's'} passing`;
  if (failing.length > 0 || (backends.length > 0 && down.length === backends.length)) {
    verdict = 'failing';
    const reasons = [...new Set(failing.map((p) => p.reason))].join(', ');
    headline =
      probes.length === 1
        ? `failing: ${reasons}`
        : `${failing.length} of ${probes.length} probes failing${reasons ? `: ${reasons}` : ''}`;
    if (failing.length === 0) headline = `all ${backends.length} backends down`;
    if (warnings.length > 0) headline += ` · ${warnings.join(' · ')}`;
  } else if (warnings.length > 0) {
    verdict = 'degraded';
    headline = warnings.join(' · ');
  }

  let lastChange: { time: string; what: string } | undefined;
  lastChange = later(lastChange, t.channelStateSince, `channel ${t.channelState}`);
  for (const p of probes) {
    const run = p.run;
    if (run)
      lastChange = later(
        lastChange,
        run.since,
        `${p.name} ${run.success ? 'ok' : (run.reason ?? 'failing')}`,
      );
  }
  const d = t.disconnectHistory?.[0];
  if (d) lastChange = later(lastChange, d.last, `disconnect ${d.reason}`);
  if (lastChange) lastChange = { ...lastChange, what: `${t.name}: ${lastChange.what}` };

  return {
    status: t,
    verdict,
    headline,
    probes,
    backends,
    ...(certDaysLeft !== undefined ? { certDaysLeft } : {}),
    ...(lastChange ? { lastChange } : {}),
  };
}

const ORDER: Record<Verdict, number> = { failing: 0, degraded: 1, healthy: 2 };

/** Failing first, then degraded, then healthy; config order within each. */
export function pageModel(targets: readonly TargetStatus[], options: PageOptions, now: number) {
  const views = targets
    .map((t, i) => ({ view: targetView(t, options, now), i }))
    .sort((a, b) => ORDER[a.view.verdict] - ORDER[b.view.verdict] || a.i - b.i)
    .map((x) => x.view);
  const summary: Summary = {
    targets: views.length,
    byVerdict: { failing: 0, degraded: 0, healthy: 0 },
    probes: 0,
    probesFailing: 0,
    backends: 0,
    backendsDown: 0,
  };
  for (const v of views) {
    summary.byVerdict[v.verdict]++;
    summary.probes += v.probes.length;
    summary.probesFailing += v.probes.filter((p) => p.state === 'failing').length;
    summary.backends += v.backends.length;
    summary.backendsDown += v.backends.filter(backendDown).length;
    if (v.lastChange) summary.lastChange = later(summary.lastChange, v.lastChange.time, v.lastChange.what);
  }
  return { views, summary };
}
