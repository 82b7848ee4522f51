// Likely cause and fix for each failure reason, as `diagnose` prints them under a failed step: the
// shared troubleshooting table (outcome/troubleshooting.ts, generated from docs/troubleshooting.md),
// so the docs, the status page and this command say the same thing. The fix names the runbook.

import type { FailureReason } from '../outcome/failure-reasons.js';
import { explainFailure } from '../outcome/troubleshooting.js';

export interface CauseAndFix {
  cause: string;
  fix: string;
}

export function causeAndFix(reason: FailureReason): CauseAndFix {
  const row = explainFailure(reason);
  // Every reason has a row (a test holds the docs to the enum); this is for a reason added without one.
  if (!row) return { cause: `no explanation for "${reason}" yet`, fix: 'see docs/troubleshooting.md' };
  return {
    cause: row.meaning,
    fix: row.runbook ? `${row.check} (runbook: docs/runbooks/${row.runbook}.md)` : row.check,
  };
}
