// The failure classifier: pure evidence in, one FailureReason out (SPEC "Failure reasons"). It is one
// ordered table; the first rule that matches wins. Each rule says which grpc-js 1.14 behaviour it
// relies on, since the texts it reads are grpc-js's own (that is why package.json pins ~1.14).

import { status as Status } from '@grpc/grpc-js';
import type { DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { HealthStatus } from '../outcome/health-statuses.js';
import type { CallEvidence } from '../probes/call-evidence.js';
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
  /** What the client saw of the call (call-evidence.ts): headers, messages, who sent the status. */
  call?: CallEvidence;
  /** Who produced the status, when the caller knows (a timeout the probe gave itself is `client`). */
  origin?: StatusOrigin;
  /** The call was unary: a second response message is a protocol violation. */
  unary?: boolean;
  /** A plaintext channel could not connect, and a TLS handshake with the same address succeeded. */
  peerSpeaksTls?: boolean;
  /**
   * A TLS channel could not connect, and a handshake with the same credentials failed (the server
   * rejected us, a plaintext peer, a bad certificate): the TLS layer is the cause.
   */
  tlsHandshakeFailed?: boolean;
  /** Whether the target's channel was READY when the call failed. */
  connected?: boolean;
  /** The connection under the call ended while the call ran, and how (the watcher's verdict). */
  killedBy?: DisconnectReason;
}

/** Who produced the final status (SPEC "Provenance rule"). */
export type StatusOrigin = 'server' | 'client';

type Evidence = FailureEvidence & { details: string; origin: StatusOrigin };

interface Rule {
  reason: FailureReason;
  /** Why the rule holds, with the grpc-js 1.14 behaviour it relies on. */
  matches(e: Evidence): boolean;
}

const has = (text: string, ...needles: string[]) => needles.some((n) => text.includes(n));
const validCode = (code: number | undefined) =>
  code !== undefined && Number.isInteger(code) && code >= 0 && code <= 16;

/**
 * The texts grpc-js 1.14 writes into the statuses it synthesizes (subchannel-call.ts, transport.ts,
 * load-balancing-call.ts, resolving-call.ts, client.ts, client-interceptors.ts, compression-filter.ts).
 * Used only when the provenance tracer is off: a status whose text is none of these came from the server.
 */
const GRPC_JS_TEXTS: RegExp[] = [
  /^No connection established/,
  /^Name resolution failed/,
  /^Failed to connect/,
  /^Deadline exceeded/,
  /^Waiting for LB pick/,
  /^Received RST_STREAM with code \d+/,
  /^Stream refused by server$/,
  /^Call cancelled$/,
  /^Connection dropped$/,
  /^Bandwidth exhausted or memory limit exceeded$/,
  /^Protocol not secure enough$/,
  /^Received HTTP status code \d+$/,
  /^No status information received$/,
  /^Received message larger than max \(\d+ vs\. \d+\)$/,
  /^Response message parsing error: /,
  /^No message received$/,
  /^Too many responses received$/,
  /^Received compressed message but "grpc-encoding" header was identity$/,
  /^Received message compressed with unsupported compression method /,
  /^Failed to decompress /,
  /^Channel closed before call started$/,
  /^Cancelled on client$/,
  /^(read|write|connect) E[A-Z]+/,
];

/** Who produced the status: the ledger's word where the tracer is on, else grpc-js's texts decide. */
export function statusOrigin(e: FailureEvidence): StatusOrigin {
  if (e.origin) return e.origin;
  // The interceptor saw this very status and the ledger named its origin.
  if (e.call?.origin && e.call.status && e.call.status.code === e.code && e.call.status.details === e.details)
    return e.call.origin;
  // A status that grpc-js replaced above the interceptor ("No message received" for an OK without a
  // message, a parse error), or one no interceptor saw (a pick that never started a call): grpc-js's.
  if (e.call?.origin !== undefined) return 'client';
  // No status, or no connection to carry one (diagnose's raw steps say so): the client's own verdict.
  if (e.code === undefined || e.connected === false) return 'client';
  const details = e.details ?? '';
  return GRPC_JS_TEXTS.some((re) => re.test(details)) ? 'client' : 'server';
}

/**
 * "Received message larger than max (N vs. M)" where N's four bytes are printable ASCII: the length
 * prefix was text ("<htm", "{\"st"), a body that is not gRPC at all; a real message that size
 * (over 538 MB) cannot be told from it and is no health answer anyway.
 */
function textLengthPrefix(details: string): boolean {
  const match = /larger than max \((\d+) vs/.exec(details);
  if (!match) return false;
  const n = Number(match[1]);
  const bytes = [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
  return bytes.every((b) => b >= 0x20 && b <= 0x7e);
}

const grpcContentType = (type: string | undefined) =>
  type === undefined || type.startsWith('application/grpc');

/**
 * Ordered: the first rule that matches wins, so more specific evidence comes first. Rules on text read
 * grpc-js 1.14's own texts (package.json pins ~1.14) and only for statuses grpc-js synthesized; a
 * status the server sent is judged by its code. Each rule is provoked by test/fault-matrix.test.ts.
 */
const RULES: Rule[] = [
  // An answer arrived; the verdict is about its content, not the transport.
  { reason: 'assertion_failed', matches: (e) => e.assertionFailed === true },
  // grpc.health.v1 answered (a status, or NOT_FOUND for an unknown service), just not SERVING.
  { reason: 'not_serving', matches: (e) => e.healthStatus !== undefined && e.healthStatus !== 'SERVING' },
  // --- statuses the server (or a proxy) sent: their code alone decides -------------------------------
  // grpc-status that is not a status number ("OK", "fine", 99): the peer broke the protocol.
  { reason: 'protocol_error', matches: (e) => e.origin === 'server' && !validCode(e.code) },
  { reason: 'unimplemented', matches: (e) => e.origin === 'server' && e.code === Status.UNIMPLEMENTED },
  { reason: 'rpc_error', matches: (e) => e.origin === 'server' },
  // --- statuses grpc-js synthesized from what the client saw ---------------------------------------
  // A code that is no status, or none at all where an answer arrived: 1.14's compression filter rejects
  // a message it cannot decompress with a plain Error, which reaches the caller without code or details.
  // (Evidence without a call, from `diagnose`'s raw steps, has no code and is judged by the rest.)
  {
    reason: 'protocol_error',
    matches: (e) =>
      (e.code !== undefined && !validCode(e.code)) || (e.code === undefined && e.call?.headers === true),
  },
  // A second message on a unary call (call.ts gives this verdict at once).
  { reason: 'protocol_error', matches: (e) => e.unary === true && (e.call?.messages ?? 0) > 1 },
  // The connection under the call went away while it ran: by a GOAWAY (whatever its code; grpc-js
  // then reports the session's error code as if it were an RST_STREAM), an EOF or a keepalive timeout.
  {
    reason: 'connection_reset',
    matches: (e) => e.killedBy === 'connection_reset',
  },
  {
    reason: 'connection_closed',
    matches: (e) => e.killedBy !== undefined && e.killedBy !== 'shutdown',
  },
  // resolver-dns.ts: "Name resolution failed for target dns:...", also carried into "No connection
  // established" once the channel gives up on the pick.
  { reason: 'dns_error', matches: (e) => has(e.details, 'Name resolution failed', 'ENOTFOUND', 'EAI_AGAIN') },
  // The TLS sniffs (failure-evidence.ts): a plaintext channel met a TLS server, or a TLS channel's
  // handshake fails with its own credentials (no or a rejected client certificate, a plaintext peer).
  { reason: 'tls_error', matches: (e) => e.peerSpeaksTls === true || e.tlsHandshakeFailed === true },
  // subchannel connect error: "No connection established. Last error: connect ECONNREFUSED ...";
  // a unix: socket that does not exist is ENOENT, a path that is no socket ECONNREFUSED.
  { reason: 'connection_refused', matches: (e) => has(e.details, 'ECONNREFUSED', 'connect ENOENT') },
  // Node's TLS errors end up in the last connection error: verification, expiry, wrong host, a TLS
  // client meeting a plaintext server ("wrong version number"), alerts from the server (mTLS).
  {
    reason: 'tls_error',
    matches: (e) =>
      has(
        e.details,
        'certificate',
        'CERT_',
        'SSL routines',
        'wrong version number',
        'self-signed',
        'self signed',
        'Hostname/IP does not match',
        'ERR_TLS',
        'ERR_SSL',
        'unable to verify',
        'handshake',
        'alert',
      ),
  },
  // A TCP RST: Node's socket error is ECONNRESET ("read ECONNRESET", "connect ECONNRESET").
  { reason: 'connection_reset', matches: (e) => has(e.details, 'ECONNRESET', 'reset by peer') },
  // subchannel-call.ts mapHttpStatusCode: a response without grpc-status. 200 is a gRPC peer that broke
  // the protocol (trailers without grpc-status); anything else is an LB or proxy answering itself.
  { reason: 'protocol_error', matches: (e) => has(e.details, 'Received HTTP status code 200') },
  { reason: 'http_error', matches: (e) => has(e.details, 'Received HTTP status code') },
  // The stream decoder read a length prefix over the limit: a body that is not gRPC (its content-type
  // says so, or the "length" is text) is a protocol error; a real gRPC message is too large.
  {
    reason: 'protocol_error',
    matches: (e) =>
      has(e.details, 'larger than max') &&
      ((e.call?.headers === true && !grpcContentType(e.call.contentType)) || textLengthPrefix(e.details)),
  },
  { reason: 'message_too_large', matches: (e) => has(e.details, 'larger than max') },
  // The peer is not a gRPC server: the stream ended without grpc-status (RST_STREAM NO_ERROR or an
  // END_STREAM without trailers), an HTTP/1.1 peer (nghttp2 reports "Protocol error" before any stream
  // exists), an answer that would not decode, OK without a message, a compressed message without
  // (or with an unknown) grpc-encoding.
  {
    reason: 'protocol_error',
    matches: (e) =>
      has(
        e.details,
        'Call ended without gRPC status',
        'No status information received',
        'Protocol error',
        'protocol error',
        'Response message parsing error',
        'No message received',
        'Too many responses received',
        'grpc-encoding',
        'unsupported compression method',
        'Failed to decompress',
      ),
  },
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
      e.code === Status.DEADLINE_EXCEEDED &&
      (has(e.details, 'Waiting for LB pick') || (e.connected === false && !has(e.details, 'remote_addr'))),
  },
  { reason: 'deadline_exceeded', matches: (e) => e.code === Status.DEADLINE_EXCEEDED },
];

/** Classifies one failed probe into the fixed enum; evidence no rule explains is `unknown`. */
export function classifyFailure(evidence: FailureEvidence): FailureReason {
  const e: Evidence = { ...evidence, details: evidence.details ?? '', origin: statusOrigin(evidence) };
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
