// The failure classifier: pure evidence in, one FailureReason out (SPEC "Failure reasons"). It is one
// ordered table; the first rule that matches wins. Each rule says which grpc-js 1.14 behaviour it
// relies on, since the texts it reads are grpc-js's own (that is why package.json pins ~1.14).

import { status as Status } from '@grpc/grpc-js';
import type { DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { HealthStatus } from '../outcome/health-statuses.js';
import type { TransportEvidence } from './trace-tap.js';

/** Everything known about one failed probe. */
export interface FailureEvidence {
  /** Final gRPC status of the call; undefined if the probe failed without one. */
  code?: number;
  /** The status details text (grpc-js writes transport errors here). */
  details?: string;
  /** A health answer that arrived, when the call itself succeeded. */
  healthStatus?: HealthStatus;
  /** The call answered as required by the transport but an expectation on it was not met. */
  assertionFailed?: boolean;
  /** A plaintext channel could not connect, and a TLS handshake with the same address succeeded. */
  peerSpeaksTls?: boolean;
  /** Whether the target's channel was READY when the call failed. */
  connected?: boolean;
}

interface Rule {
  reason: FailureReason;
  matches(e: Required<Pick<FailureEvidence, 'details'>> & FailureEvidence): boolean;
}

const has = (text: string, ...needles: string[]) => needles.some((n) => text.includes(n));

/**
 * Ordered: the first rule that matches wins, so more specific evidence comes first. The texts are
 * grpc-js 1.14's (package.json pins ~1.14); each was provoked by a test in test/failure-reasons.test.ts.
 */
const RULES: Rule[] = [
  // An answer arrived; the verdict is about its content, not the transport.
  { reason: 'assertion_failed', matches: (e) => e.assertionFailed === true },
  // grpc.health.v1 answered (a status, or NOT_FOUND for an unknown service), just not SERVING.
  { reason: 'not_serving', matches: (e) => e.healthStatus !== undefined && e.healthStatus !== 'SERVING' },
  // resolver-dns.ts: "Name resolution failed for target dns:...", also carried into "No connection
  // established" once the channel gives up on the pick.
  { reason: 'dns_error', matches: (e) => has(e.details, 'Name resolution failed', 'ENOTFOUND', 'EAI_AGAIN') },
  // subchannel connect error: "No connection established. Last error: connect ECONNREFUSED ...".
  { reason: 'connection_refused', matches: (e) => has(e.details, 'ECONNREFUSED') },
  // Node's TLS errors end up in the last connection error: verification, expiry, wrong host, a TLS
  // client meeting a plaintext server ("wrong version number"), alerts from the server (mTLS).
  {
    reason: 'tls_error',
    matches: (e) =>
      e.peerSpeaksTls === true ||
      has(
        e.details,
        'certificate',
        'CERT_',
        'SSL routines',
        'wrong version number',
        'self-signed',
        'self signed',
      ) ||
      has(e.details, 'Hostname/IP does not match', 'ERR_TLS', 'unable to verify', 'handshake', 'alert'),
  },
  // A TCP RST: Node's socket error is ECONNRESET ("read ECONNRESET", "connect ECONNRESET").
  { reason: 'connection_reset', matches: (e) => has(e.details, 'ECONNRESET', 'reset by peer') },
  // call-stream: a response without grpc-status whose HTTP status is not 200: an LB or proxy page.
  { reason: 'http_error', matches: (e) => has(e.details, 'Received HTTP status code') },
  // The peer is not a gRPC server: 200 and the stream ended without grpc-status, or an HTTP/1.1 peer
  // (nghttp2 reports "Protocol error" before any stream exists).
  {
    reason: 'protocol_error',
    matches: (e) => has(e.details, 'Call ended without gRPC status', 'Protocol error', 'protocol error'),
  },
  { reason: 'message_too_large', matches: (e) => has(e.details, 'larger than max', 'larger than') },
  // The connection went away under the call: subchannel-call's "Connection dropped", a session torn
  // down by a GOAWAY with an error code ("Session closed with error code N"), or EOF before the
  // HTTP/2 preface ("Failed to connect").
  {
    reason: 'connection_closed',
    matches: (e) =>
      has(e.details, 'Connection dropped', 'Session closed with error code', 'Failed to connect', 'EPIPE'),
  },
  // RST_STREAM from the server, as subchannel-call.ts maps its codes: NO_ERROR/PROTOCOL_ERROR/
  // INTERNAL_ERROR → "Received RST_STREAM with code N", REFUSED_STREAM → "Stream refused by server",
  // CANCEL → "Call cancelled" (we never record calls we cancelled ourselves), ENHANCE_YOUR_CALM →
  // "Bandwidth exhausted or memory limit exceeded", INADEQUATE_SECURITY → "Protocol not secure enough".
  {
    reason: 'stream_reset',
    matches: (e) =>
      has(
        e.details,
        'RST_STREAM',
        'Stream refused by server',
        'Bandwidth exhausted',
        'Protocol not secure enough',
      ) ||
      (e.code === Status.CANCELLED && e.details === 'Call cancelled'),
  },
  // The deadline passed before the channel had a connection to put the call on: grpc-js's details end
  // with "Waiting for LB pick" (no remote_addr), or the channel is still not READY.
  {
    reason: 'connect_timeout',
    matches: (e) =>
      e.code === Status.DEADLINE_EXCEEDED && (has(e.details, 'Waiting for LB pick') || e.connected === false),
  },
  { reason: 'deadline_exceeded', matches: (e) => e.code === Status.DEADLINE_EXCEEDED },
  { reason: 'unimplemented', matches: (e) => e.code === Status.UNIMPLEMENTED },
  // Any other status the server chose on purpose (NOT_FOUND, PERMISSION_DENIED, INTERNAL, ...).
  { reason: 'rpc_error', matches: (e) => e.code !== undefined && e.code !== Status.OK },
];

/** Classifies one failed probe into the fixed enum; evidence no rule explains is `unknown`. */
export function classifyFailure(evidence: FailureEvidence): FailureReason {
  const e = { ...evidence, details: evidence.details ?? '' };
  for (const rule of RULES) if (rule.matches(e)) return rule.reason;
  return 'unknown';
}

/** Everything known about one READY connection that went away. */
export interface DisconnectEvidence {
  /** What grpc-js's transport trace said about the socket; undefined if it said nothing. */
  evidence?: TransportEvidence;
  /** We closed the channel ourselves (target removed, daemon stopping). */
  weClosed: boolean;
}

export interface DisconnectVerdict {
  reason: DisconnectReason;
  /** Human-readable evidence for logs and the status page; never a label. */
  details: string;
}

/** HTTP/2 GOAWAY codes (RFC 9113 §7) that the disconnect rules name. */
const H2_NO_ERROR = 0;
const H2_ENHANCE_YOUR_CALM = 11;

/**
 * Classifies a lost connection into SPEC's disconnect reasons (modelled on gRFC A94). grpc-js logs the
 * GOAWAY code and debug data in transport.ts's 'goaway' handler and the ping timeout in its keepalive
 * timer; servers say why they drain in the debug data ("max_age" for max_connection_age, "max_idle" or
 * "enter idle" for an idle timeout).
 */
export function classifyDisconnect({ evidence, weClosed }: DisconnectEvidence): DisconnectVerdict {
  if (weClosed) return { reason: 'shutdown', details: 'closed by grpc-pulse' };
  if (!evidence) return { reason: 'unknown', details: 'no transport evidence (are grpc-js tracers off?)' };
  switch (evidence.kind) {
    case 'keepalive_timeout':
      return { reason: 'keepalive_timeout', details: 'keepalive ping not answered in time' };
    case 'goaway': {
      const details = `GOAWAY code ${evidence.code}${evidence.data ? ` data "${evidence.data}"` : ''}`;
      // An idle timeout names itself in the debug data, whatever the code: grpc-go sends NO_ERROR
      // "max_idle", C-core (python3-grpcio 1.51, seen in test/connection.test.ts) INTERNAL_ERROR "enter idle".
      if (/idle/i.test(evidence.data)) return { reason: 'idle', details };
      if (evidence.code === H2_NO_ERROR) return { reason: 'goaway_no_error', details };
      // gRFC A8: ENHANCE_YOUR_CALM with "too_many_pings" means our keepalive is faster than the
      // server's enforcement policy allows.
      if (evidence.code === H2_ENHANCE_YOUR_CALM && evidence.data === 'too_many_pings') {
        return { reason: 'goaway_too_many_pings', details };
      }
      return { reason: 'goaway_error', details };
    }
    case 'error':
      // Node's socket error for a TCP RST is ECONNRESET; any other socket error ends the connection too.
      return {
        reason: /ECONNRESET|reset by peer/.test(evidence.message) ? 'connection_reset' : 'connection_closed',
        details: evidence.message,
      };
    case 'closed':
      return { reason: 'connection_closed', details: 'connection closed by the peer (EOF)' };
  }
}
