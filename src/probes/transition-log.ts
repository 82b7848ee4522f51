// Logs what changes, not what repeats (STYLE "Logs"): each health status change of a service once, at
// info, and for each probe its first failure (warn, with reason and details) and its recovery (info,
// with how many attempts failed in between). Wraps the observer the probes report to.

import type { Logger } from 'pino';
import type { HealthStatus } from '../outcome/health-statuses.js';
import type { ProbeObserver } from './probe.js';

export function withTransitionLogs(observer: ProbeObserver, log: Logger): ProbeObserver {
  const statuses = new Map<string, HealthStatus>();
  /** Per probe: failures since the last success (0 = succeeding); absent until the first result. */
  const failing = new Map<string, number>();
  return {
    attempt: (target, probe) => observer.attempt(target, probe),
    result: (target, probe, result) => {
      observer.result(target, probe, result);
      const before = failing.get(probe);
      if (result.success) {
        failing.set(probe, 0);
        if (before !== undefined && before > 0)
          log.info({ probe, failedAttempts: before }, 'probe recovered');
        return;
      }
      failing.set(probe, (before ?? 0) + 1);
      if (!before) log.warn({ probe, reason: result.reason, details: result.details }, 'probe failing');
    },
    healthStatus: (target, service, status) => {
      observer.healthStatus(target, service, status);
      const before = statuses.get(service);
      statuses.set(service, status);
      // Before any answer a service is UNKNOWN; the first answer is news only when it is not SERVING.
      const from = before ?? 'UNKNOWN';
      if (from === status || (before === undefined && status === 'SERVING')) return;
      log.info({ service, from, to: status }, 'health status changed');
    },
    watchUp: (target, service, up) => observer.watchUp(target, service, up),
  };
}
