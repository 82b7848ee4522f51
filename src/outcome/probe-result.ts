// The verdict of one probe attempt, as recorders, the status page and /probe read it.

import type { FailureReason } from './failure-reasons.js';
import type { HealthStatus } from './health-statuses.js';

/** The verdict of one probe attempt (a call), or of one event of a stream (a Watch message). */
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
  /** What a stream probe saw since its last report (SPEC grpc_probe_stream_*). */
  stream?: StreamProgress;
}

/** Messages of a stream probe since its last report, and the gaps between them. */
export interface StreamProgress {
  /** Messages received since the last report (the counter's increment). */
  messages: number;
  /** Time from opening the stream to its first message, once per stream that delivered one. */
  firstMessageSeconds?: number;
  /** The longest gap between messages of the current stream so far (opening to first message included). */
  maxGapSeconds?: number;
}

/** The verdict of a one-off probe (/probe), with the health answer where there was one. */
export interface OneShotResult {
  result: ProbeResult;
  healthStatus?: HealthStatus;
}
