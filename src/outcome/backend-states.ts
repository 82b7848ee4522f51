// The `state` label of grpc_probe_backends and the verdict of one fan-out backend (SPEC "Metrics"): a
// backend is up when the last verdict of every one of its probes was a success, down otherwise (a
// backend not probed yet is down: nothing says it serves).

export const BACKEND_STATES = ['up', 'down'] as const;
export type BackendState = (typeof BACKEND_STATES)[number];

/** The state of a backend from the last verdict of each of its probes (undefined: none yet). */
export function backendState(verdicts: Iterable<boolean | undefined>): BackendState {
  for (const success of verdicts) if (success !== true) return 'down';
  return 'up';
}
