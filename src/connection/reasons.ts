// The fixed label enums of SPEC "Failure reasons" and "Disconnect reasons". Nothing else may become
// a `reason` label value.

export const FAILURE_REASONS = [
  'dns_error',
  'connection_refused',
  'connect_timeout',
  'tls_error',
  'connection_reset',
  'connection_closed',
  'stream_reset',
  'deadline_exceeded',
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

export const DISCONNECT_REASONS = [
  'goaway_no_error',
  'goaway_too_many_pings',
  'goaway_error',
  'connection_reset',
  'keepalive_timeout',
  'connection_closed',
  'idle',
  'shutdown',
  'unknown',
] as const;
export type DisconnectReason = (typeof DISCONNECT_REASONS)[number];
