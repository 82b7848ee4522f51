// A target that starts together with grpc-pulse (the app beside the sidecar) refuses connections until
// it has started. During `startup_grace`, and only until its first success, failed probe results are
// not reported to the sink at all: attempts are still counted, but neither the failure series nor the
// status page see those failures.

import type { ProbeObserver } from './probe.js';

export function withStartupGrace(
  observer: ProbeObserver,
  graceMs: number,
  now = () => performance.now(),
): ProbeObserver {
  if (graceMs <= 0) return observer;
  const until = now() + graceMs;
  let started = false;
  return {
    attempt: (target, probe) => observer.attempt(target, probe),
    result: (target, probe, result) => {
      if (result.success) started = true;
      if (!result.success && !started && now() < until) return;
      observer.result(target, probe, result);
    },
    healthStatus: (target, service, status) => observer.healthStatus(target, service, status),
    watchUp: (target, service, up) => observer.watchUp(target, service, up),
  };
}
