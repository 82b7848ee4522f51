// The shapes of a `grpc-pulse diagnose` run (SPEC "CLI": `diagnose --json`): steps with a status, the
// findings of the opt-in discovery tests, and what each step tells the exit code.

import type { FailureReason } from '../outcome/failure-reasons.js';

export type StepStatus = 'ok' | 'warn' | 'fail' | 'skipped';

/** How a raw HTTP/2 connection held open by the idle test ended (SPEC `idle_cutoff_by`). */
export type IdleCutoffBy = 'server_goaway' | 'intermediary_close' | 'intermediary_reset' | 'none_within_test';

/** One line of the report; the JSON form is exactly these fields (SPEC). */
export interface Step {
  name: string;
  status: StepStatus;
  /** Wall time of the step, milliseconds. */
  ms: number;
  detail: string;
  cause?: string;
  fix?: string;
}

/** What the layer of a failed step means for the exit code (SPEC: 2, 3 or 4). */
export type FailureLayer = 'connection' | 'rpc' | 'not_serving';

/** A step as the steps produce it: the public fields plus what the exit code needs. */
export interface StepResult extends Step {
  /** Set on `fail`: which exit code the failure maps to. */
  layer?: FailureLayer;
  /** The classified failure reason, when the step failed with one. */
  reason?: FailureReason;
}

export interface Findings {
  idle_cutoff_seconds?: number;
  idle_cutoff_by?: IdleCutoffBy;
  /** The largest ping interval the server rejected (GOAWAY too_many_pings): keepalive must be above it. */
  ping_policy_min_seconds?: number;
  /** Age of a busy connection when the server drained it with GOAWAY NO_ERROR. */
  max_connection_age_seconds?: number;
  /** Services listed by server reflection. */
  services?: string[];
}

export interface Report {
  address: string;
  steps: Step[];
  findings: Findings;
}
