// What each failure and disconnect reason means, what to check and which alert's runbook covers it:
// one table, generated from docs/troubleshooting.md, shared by the status page and `diagnose`.

import { DISCONNECT_REASONS, type DisconnectReason, type FailureReason } from '../connection/reasons.js';
import { TROUBLESHOOTING_TABLES } from './troubleshooting-table.js';

export interface Explanation {
  /** Inline markdown from docs/troubleshooting.md (`code` spans). */
  meaning: string;
  check: string;
  /** Messages a user may know a failure by (failures only). */
  symptom?: string;
  /** The alert whose runbook covers this reason: docs/runbooks/<runbook>.md. */
  runbook?: string;
}

/**
 * The alert that fires on a probe failure, by reason: health answers have their own alert, every
 * other failure turns the verdict off (GrpcProbeFailing, SPEC "Alert rules").
 */
function failureRunbook(reason: string): string {
  return reason === 'not_serving' ? 'GrpcHealthNotServing' : 'GrpcProbeFailing';
}

/** Disconnects only alert when they are faults: a keepalive mismatch, or a reset family. */
const DISCONNECT_RUNBOOKS: Partial<Record<DisconnectReason, string>> = {
  goaway_too_many_pings: 'GrpcKeepaliveMismatch',
  goaway_error: 'GrpcConnectionResets',
  connection_reset: 'GrpcConnectionResets',
  keepalive_timeout: 'GrpcConnectionResets',
  connection_closed: 'GrpcConnectionResets',
};

const failures = new Map<string, Explanation>(
  TROUBLESHOOTING_TABLES.failures.map((row) => [
    row.reason,
    {
      meaning: row.meaning,
      check: row.check,
      ...(row.symptom ? { symptom: row.symptom } : {}),
      runbook: failureRunbook(row.reason),
    },
  ]),
);

const disconnects = new Map<string, Explanation>(
  TROUBLESHOOTING_TABLES.disconnects.map((row) => {
    const runbook = DISCONNECT_RUNBOOKS[row.reason as DisconnectReason];
    return [row.reason, { meaning: row.meaning, check: row.check, ...(runbook ? { runbook } : {}) }];
  }),
);

/** What a probe failure reason means; undefined only for a reason the docs do not list yet. */
export function explainFailure(reason: FailureReason | string): Explanation | undefined {
  return failures.get(reason);
}

/** What a disconnect reason means; undefined only for a reason the docs do not list yet. */
export function explainDisconnect(reason: DisconnectReason | string): Explanation | undefined {
  return disconnects.get(reason);
}

/** Disconnects that are no fault (a drain, an idle timeout, our own close). */
export function isFaultDisconnect(reason: DisconnectReason | string): boolean {
  return (
    DISCONNECT_REASONS.includes(reason as DisconnectReason) &&
    DISCONNECT_RUNBOOKS[reason as DisconnectReason] !== undefined
  );
}
