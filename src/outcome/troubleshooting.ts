// What each failure and disconnect reason means, what to check and which alert's runbook covers it:
// one table, generated from docs/troubleshooting.md, shared by the status page and `diagnose`.

import { type DisconnectReason, FAULT_DISCONNECTS } from './disconnect-reasons.js';
import type { FailureReason } from './failure-reasons.js';
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
 * The alert that fires on a probe failure, by reason: health answers and stalled streams have their
 * own alerts, every other failure turns the verdict off (GrpcProbeFailing, SPEC "Alert rules").
 */
const OWN_ALERT: Record<string, string> = {
  not_serving: 'GrpcHealthNotServing',
  stream_stalled: 'GrpcStreamStalled',
};

function failureRunbook(reason: string): string {
  return OWN_ALERT[reason] ?? 'GrpcProbeFailing';
}

/** Disconnects alert only when they are faults (disconnect-reasons.ts) or a keepalive mismatch. */
function disconnectRunbook(reason: string): string | undefined {
  if (reason === 'goaway_too_many_pings') return 'GrpcKeepaliveMismatch';
  return FAULT_DISCONNECTS.includes(reason as DisconnectReason) ? 'GrpcConnectionResets' : undefined;
}

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
    const runbook = disconnectRunbook(row.reason);
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

/** A disconnect that says something broke: a fault, or a keepalive mismatch (each has an alert). */
export function isFaultDisconnect(reason: DisconnectReason | string): boolean {
  return disconnectRunbook(reason) !== undefined;
}
