// The shapes every probe shares: what one probe reports, and the observer it reports to. Probes know
// nothing of prom-client or fastify; recorders and the status store implement ProbeObserver.

import type { FailureReason } from '../connection/reasons.js';
import type { ChannelState, LastDisconnect } from '../connection/watcher.js';

/** The read-only view of a target's connection that probes use as evidence. */
export interface ConnectionView {
  readonly state: ChannelState | undefined;
  readonly lastDisconnect: LastDisconnect | undefined;
  /** Counts READY transitions; changes whenever the target is reached over a new connection. */
  readonly connections: number;
}

/** grpc.health.v1 serving statuses, plus UNKNOWN for "no answer we can trust" (stream down). */
export const HEALTH_STATUSES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;
export type HealthStatus = (typeof HEALTH_STATUSES)[number];

/** The verdict of one probe attempt (a Check or unary call), or of one Watch event. */
export interface ProbeResult {
  success: boolean;
  /** Why it failed; set exactly when success is false. */
  reason?: FailureReason;
  /** The status a finished call ended with; undefined when no call finished (a Watch message). */
  code?: number;
  /** Raw error text for humans (status page, logs); never a label. */
  details?: string;
  /** Call latency; undefined where there is no call to time. */
  durationSeconds?: number;
  /**
   * A Watch stream that keeps reporting SERVING is succeeding continuously: its last-success time is
   * "now" at every scrape until another result arrives.
   */
  ongoing?: boolean;
}

/** Where probes report. Every method must be cheap and must not throw: it runs inside gRPC callbacks. */
export interface ProbeObserver {
  /** A probe started an attempt (a call, or opening a Watch stream). */
  attempt(target: string, probe: string): void;
  result(target: string, probe: string, result: ProbeResult): void;
  healthStatus(target: string, service: string, status: HealthStatus): void;
  /** Whether the Watch stream is open; undefined when the service is checked, not watched (fallback). */
  watchUp(target: string, service: string, up: boolean | undefined): void;
}

/** The `probe` label of a health probe (SPEC "Metrics"): `health` for the server, `health:<service>`. */
export function healthProbeName(service: string): string {
  return service === '' ? 'health' : `health:${service}`;
}

export const PROBE_OBSERVER_METHODS = ['attempt', 'result', 'healthStatus', 'watchUp'] as const;
