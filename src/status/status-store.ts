// What a human reads on the status page and /api/v1/targets: per target the health statuses and, per
// probe, the last verdict with its raw details, plus the most recent failures. Raw text lives here and
// in logs, never in labels. Bounded: a fixed number of failures per target. History is kept as runs
// (identical verdicts in a row counted once: "connection_refused ×20 since 18:21:30"), and every
// change is announced to subscribers (the status page's live feed).

import type { ChannelState } from '../outcome/channel-states.js';
import type { DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { HealthStatus } from '../outcome/health-statuses.js';
import type { ProbeResult } from '../outcome/probe-result.js';
import type { TargetPlan } from '../probes/plan.js';
import type { ProbeSpec } from '../probes/probe.js';
import type { TargetSink } from '../targets/sink.js';
import { grpcCodeLabel } from '../util/grpc-codes.js';

const RECENT_EVENTS = 20;
/** Runs kept per probe and disconnect runs per target: the page's history and transition strip. */
const RUNS = 12;
/** Details are cut here: enough to diagnose, bounded in memory and on the page. */
const MAX_DETAILS = 500;

export interface FailureRecord {
  time: string;
  probe: string;
  reason: FailureReason;
  grpcCode?: string;
  details: string;
}

export interface DisconnectRecord {
  time: string;
  reason: DisconnectReason;
  details: string;
}

/** Identical verdicts in a row, counted once; a new run starts when success or reason changes. */
export interface ProbeRun {
  success: boolean;
  reason?: FailureReason;
  count: number;
  /** The first and the latest result of the run. */
  since: string;
  last: string;
}

/** Disconnects of one reason in a row. */
export interface DisconnectRun {
  reason: DisconnectReason;
  count: number;
  since: string;
  last: string;
  /** Details of the latest one. */
  details: string;
}

export interface ProbeStatus {
  success: boolean;
  lastResultTime?: string;
  lastSuccessTime?: string;
  lastReason?: FailureReason;
  lastDetails?: string;
  /** Newest first, at most RUNS; empty until the first result. */
  history: ProbeRun[];
}

export interface HealthView {
  status: HealthStatus;
  /** null when the service is checked rather than watched. */
  watchUp: boolean | null;
}

export interface TargetStatus {
  name: string;
  address: string;
  channelState: ChannelState;
  /** When channelState last changed (or the target was added). */
  channelStateSince: string;
  /** When the current connection became READY; absent while there is none. */
  connectedSince?: string;
  /** Expiry of the server certificate seen on the last TLS connection. */
  tlsCertExpiry?: string;
  health: Record<string, HealthView>;
  probes: Record<string, ProbeStatus>;
  recentFailures: FailureRecord[];
  recentDisconnects: DisconnectRecord[];
  /** Newest first, at most RUNS. */
  disconnectHistory: DisconnectRun[];
}

/** significant: a verdict, state or reason changed (not just one more identical result). */
export type StatusListener = (significant: boolean) => void;

/** The listeners of a status book (the status page's live feed); one listener's throw stays its own. */
export class StatusListeners {
  readonly #listeners = new Set<StatusListener>();

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: StatusListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Tells every listener; a listener's failure is its own (the books run inside gRPC callbacks). */
  notify(significant: boolean): void {
    for (const listener of this.#listeners) {
      try {
        listener(significant);
      } catch {
        // not ours to handle
      }
    }
  }
}

function truncate(text: string): string {
  return text.length > MAX_DETAILS ? `${text.slice(0, MAX_DETAILS)}…` : text;
}

/**
 * A probe's status after one more result: last verdict, reason and details, and its history of runs
 * (a run grows while verdict and reason stay). significant: the verdict or reason changed.
 * Shared by StatusStore and BackendStatusBook.
 */
export function nextProbeStatus(
  previous: ProbeStatus | undefined,
  result: ProbeResult,
  now: string,
): { status: ProbeStatus; significant: boolean } {
  const status: ProbeStatus = {
    history: [],
    ...previous,
    success: result.success,
    lastResultTime: now,
  };
  if (result.success) {
    status.lastSuccessTime = now;
    delete status.lastReason;
    delete status.lastDetails;
  } else {
    status.lastReason = result.reason ?? 'unknown';
    status.lastDetails = truncate(result.details ?? '');
  }
  const reason = result.success ? undefined : status.lastReason;
  const run = status.history[0];
  const significant = !run || run.success !== result.success || run.reason !== reason;
  if (significant) {
    status.history.unshift({
      success: result.success,
      ...(reason ? { reason } : {}),
      count: 1,
      since: now,
      last: now,
    });
    status.history.length = Math.min(status.history.length, RUNS);
  } else {
    run.count++;
    run.last = now;
  }
  return { status, significant };
}

/** Fan-out backends and resolutions are kept by BackendStatusBook (backend-status.ts). */
export class StatusStore implements Omit<TargetSink, 'resolution'> {
  readonly #targets = new Map<string, TargetStatus>();
  readonly #listeners = new StatusListeners();

  /** Calls `listener` after every change; returns the unsubscribe function. */
  subscribe(listener: StatusListener): () => void {
    return this.#listeners.subscribe(listener);
  }

  #changed(significant: boolean): void {
    this.#listeners.notify(significant);
  }

  addTarget(plan: TargetPlan): void {
    // One backend of a fan-out target: BackendStatusBook's, and events under its key find no entry here.
    if (plan.backend !== undefined) return;
    this.#targets.set(plan.name, {
      name: plan.name,
      address: plan.address,
      health: {},
      channelState: 'IDLE',
      channelStateSince: new Date().toISOString(),
      probes: {},
      recentFailures: [],
      recentDisconnects: [],
      disconnectHistory: [],
    });
    // A fan-out target's probes run per backend: their verdicts are in its `backends`.
    if (!plan.fanOut) for (const probe of plan.probes) this.addProbe(plan.name, probe);
    this.#changed(true);
  }

  removeTarget(name: string): void {
    if (this.#targets.delete(name)) this.#changed(true);
  }

  addProbe(target: string, probe: ProbeSpec): void {
    const t = this.#targets.get(target);
    if (!t) return;
    t.probes[probe.name] = { success: false, history: [] };
    if (probe.health) {
      t.health[probe.health.service] = { status: 'UNKNOWN', watchUp: probe.health.watch ? false : null };
    }
    this.#changed(true);
  }

  removeProbe(target: string, probe: ProbeSpec): void {
    const t = this.#targets.get(target);
    if (!t) return;
    delete t.probes[probe.name];
    if (probe.health) delete t.health[probe.health.service];
    this.#changed(true);
  }

  /**
   * The live entries, without the copy: for a reader that finishes synchronously (the status page
   * renders 1,000 targets in a fraction of what copying them costs). Never keep or change them.
   */
  view(): readonly TargetStatus[] {
    return [...this.#targets.values()];
  }

  /** A copy that callers may serialise or keep. */
  snapshot(): TargetStatus[] {
    return structuredClone([...this.#targets.values()]);
  }

  attempt(): void {}

  result(target: string, probe: string, result: ProbeResult): void {
    const t = this.#targets.get(target);
    if (!t) return;
    const now = new Date().toISOString();
    const { status, significant } = nextProbeStatus(t.probes[probe], result, now);
    if (!result.success) {
      t.recentFailures.unshift({
        time: now,
        probe,
        reason: status.lastReason ?? 'unknown',
        ...(result.code !== undefined ? { grpcCode: grpcCodeLabel(result.code) } : {}),
        details: status.lastDetails ?? '',
      });
      t.recentFailures.length = Math.min(t.recentFailures.length, RECENT_EVENTS);
    }
    t.probes[probe] = status;
    this.#changed(significant);
  }

  healthStatus(target: string, service: string, status: HealthStatus): void {
    const view = this.#targets.get(target)?.health[service];
    if (!view || view.status === status) return;
    view.status = status;
    this.#changed(true);
  }

  watchUp(target: string, service: string, up: boolean | undefined): void {
    const view = this.#targets.get(target)?.health[service];
    if (!view || view.watchUp === (up ?? null)) return;
    view.watchUp = up ?? null;
    this.#changed(true);
  }

  channelState(target: string, state: ChannelState): void {
    const t = this.#targets.get(target);
    if (!t || t.channelState === state) return;
    const now = new Date().toISOString();
    t.channelState = state;
    t.channelStateSince = now;
    if (state === 'READY') t.connectedSince = now;
    else delete t.connectedSince;
    this.#changed(true);
  }

  connectAttempt(): void {}

  disconnect(target: string, reason: DisconnectReason, details: string): void {
    const t = this.#targets.get(target);
    if (!t) return;
    const now = new Date().toISOString();
    t.recentDisconnects.unshift({ time: now, reason, details: truncate(details) });
    t.recentDisconnects.length = Math.min(t.recentDisconnects.length, RECENT_EVENTS);
    const run = t.disconnectHistory[0];
    if (run?.reason === reason) {
      run.count++;
      run.last = now;
      run.details = truncate(details);
    } else {
      t.disconnectHistory.unshift({ reason, count: 1, since: now, last: now, details: truncate(details) });
      t.disconnectHistory.length = Math.min(t.disconnectHistory.length, RUNS);
    }
    this.#changed(true);
  }

  tlsCertExpiry(target: string, unixSeconds: number): void {
    const t = this.#targets.get(target);
    if (!t) return;
    const expiry = new Date(unixSeconds * 1000).toISOString();
    if (t.tlsCertExpiry === expiry) return;
    t.tlsCertExpiry = expiry;
    this.#changed(true);
  }
}
