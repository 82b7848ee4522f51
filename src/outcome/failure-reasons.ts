// The fixed `reason` label enum of SPEC "Failure reasons": why a probe failed. Nothing else may become
// the `reason` label of a probe series.

export const FAILURE_REASONS = [
  'dns_error',
  'connection_refused',
  'connect_timeout',
  'tls_error',
  'connection_reset',
  'connection_closed',
  'stream_reset',
  'deadline_exceeded',
  /** A stream probe got no message within `max_gap` (or `first_message_within`) while the call stayed open. */
  'stream_stalled',
  'http_error',
  'protocol_error',
  'message_too_large',
  'unimplemented',
  'not_serving',
  'assertion_failed',
  'rpc_error',
  'unknown',
] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];
