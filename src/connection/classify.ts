// The failure classifier: pure evidence in, one FailureReason out (SPEC "Failure reasons"). It is one
// ordered table; the first rule that matches wins. Each rule says which grpc-js 1.14 behaviour it
// relies on, since the texts it reads are grpc-js's own (that is why package.json pins ~1.14).

import { status as Status } from '@grpc/grpc-js';
import type { HealthStatus } from '../probes/probe.js';
import type { FailureReason } from './reasons.js';

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
}

interface Rule {
  reason: FailureReason;
  matches(e: Required<Pick<FailureEvidence, 'details'>> & FailureEvidence): boolean;
}

const has = (text: string, ...needles: string[]) => needles.some((n) => text.includes(n));

/** Ordered: more specific evidence first. */
const RULES: Rule[] = [
  // An answer arrived; the verdict is about its content, not the transport.
  { reason: 'assertion_failed', matches: (e) => e.assertionFailed === true },
  // grpc.health.v1 answered (a status, or NOT_FOUND for an unknown service), just not SERVING.
  { reason: 'not_serving', matches: (e) => e.healthStatus !== undefined && e.healthStatus !== 'SERVING' },
  // grpc-js resolver: "Name resolution failed for target dns:..." (resolver-dns.ts), carried as the
  // channel's last error into "No connection established" when the pick fails.
  { reason: 'dns_error', matches: (e) => has(e.details, 'Name resolution failed', 'ENOTFOUND', 'EAI_AGAIN') },
  // grpc-js subchannel: "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:1".
  { reason: 'connection_refused', matches: (e) => has(e.details, 'ECONNREFUSED') },
  // Node's TLS errors surface in the last connection error (certificate, handshake, wrong protocol).
  {
    reason: 'tls_error',
    matches: (e) =>
      has(
        e.details,
        'certificate',
        'CERT_',
        'SSL',
        'ssl3_',
        'wrong version number',
        'self-signed',
        'self signed',
        'Hostname/IP does not match',
        'ERR_TLS',
        'handshake',
      ),
  },
  // A TCP RST from the peer: Node reports ECONNRESET on the socket; grpc-js puts it in details.
  { reason: 'connection_reset', matches: (e) => has(e.details, 'ECONNRESET', 'reset by peer') },
  // grpc-js transport: a stream whose HTTP/2 RST_STREAM arrived before a gRPC status.
  { reason: 'stream_reset', matches: (e) => has(e.details, 'RST_STREAM') },
  // grpc-js call-stream: a non-200 HTTP status without grpc-status is "Received HTTP status code N".
  { reason: 'http_error', matches: (e) => has(e.details, 'Received HTTP status code') },
  {
    reason: 'message_too_large',
    matches: (e) => e.code === Status.RESOURCE_EXHAUSTED && has(e.details, 'larger than'),
  },
  {
    reason: 'protocol_error',
    matches: (e) => has(e.details, 'Protocol error', 'protocol error', 'ERR_HTTP2'),
  },
  // grpc-js: a READY connection lost while the call was open ("Connection dropped", socket closed).
  {
    reason: 'connection_closed',
    matches: (e) =>
      e.code === Status.UNAVAILABLE &&
      has(e.details, 'Connection dropped', 'closed', 'EOF', 'GOAWAY', 'EPIPE'),
  },
  {
    // Deadline hit while the channel never got a connection: grpc-js reports DEADLINE_EXCEEDED and
    // its details name the LB pick or "Waiting for" a connection.
    reason: 'connect_timeout',
    matches: (e) =>
      e.code === Status.DEADLINE_EXCEEDED && has(e.details, 'Waiting for LB pick', 'waiting_for_connection'),
  },
  { reason: 'deadline_exceeded', matches: (e) => e.code === Status.DEADLINE_EXCEEDED },
  { reason: 'unimplemented', matches: (e) => e.code === Status.UNIMPLEMENTED },
  // Any status a server chose on purpose (NOT_FOUND, PERMISSION_DENIED, INTERNAL, ...).
  {
    reason: 'rpc_error',
    matches: (e) => e.code !== undefined && e.code !== Status.OK && e.code !== Status.UNAVAILABLE,
  },
];

/** Classifies one failed probe into the fixed enum; evidence no rule explains is `unknown`. */
export function classifyFailure(evidence: FailureEvidence): FailureReason {
  const e = { ...evidence, details: evidence.details ?? '' };
  for (const rule of RULES) if (rule.matches(e)) return rule.reason;
  return 'unknown';
}
