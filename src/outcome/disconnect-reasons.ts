// The fixed `reason` label enum of SPEC "Disconnect reasons" (why a READY connection went away) and the
// one table of what each means. The connection log level, the Watch probe's drain detection and the
// GrpcConnectionResets alert all read it here, so "graceful" has one definition.

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

/**
 * What a disconnect says about the target. `graceful`: closed on purpose (a drain, an idle timeout, our
 * own shutdown), not a fault. `fault`: the link or the server broke. `keepalive_mismatch`: our ping
 * rate is above what the server permits (its own alert). `unknown`: no evidence either way.
 */
export type DisconnectKind = 'graceful' | 'fault' | 'keepalive_mismatch' | 'unknown';

/** A Record, so a reason added above without a kind is a compile error. */
const DISCONNECT_KINDS: Record<DisconnectReason, DisconnectKind> = {
  connection_reset: 'fault',
  keepalive_timeout: 'fault',
  connection_closed: 'fault',
  goaway_error: 'fault',
  goaway_no_error: 'graceful',
  idle: 'graceful',
  shutdown: 'graceful',
  goaway_too_many_pings: 'keepalive_mismatch',
  unknown: 'unknown',
};

/** The server (or grpc-pulse) closed the connection on purpose: rollouts, max_connection_age, idle. */
export function isGracefulDisconnect(reason: DisconnectReason): boolean {
  return DISCONNECT_KINDS[reason] === 'graceful';
}

/** The disconnects that count as a broken connection (the GrpcConnectionResets alert), in table order. */
export const FAULT_DISCONNECTS = (Object.keys(DISCONNECT_KINDS) as DisconnectReason[]).filter(
  (reason) => DISCONNECT_KINDS[reason] === 'fault',
);
