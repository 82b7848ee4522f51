// The classifier as a table over evidence recorded from real faults (the texts are grpc-js 1.14's, as
// test/fault-matrix.test.ts saw them), with the rule order pinned: where two rules could match, the
// row says which wins. Also the provenance ledger fed with grpc-js's own trace lines.

import { status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { classifyFailure, type FailureEvidence, statusOrigin } from '../src/connection/classify.js';
import { StatusProvenance } from '../src/connection/status-provenance.js';
import type { FailureReason } from '../src/outcome/failure-reasons.js';
import type { CallEvidence } from '../src/probes/call-evidence.js';

const call = (over: Partial<CallEvidence> = {}): CallEvidence => ({
  headers: false,
  messages: 0,
  startedAt: 0,
  ...over,
});
/** The interceptor saw this status, and the ledger says who sent it. */
const seen = (
  code: number,
  details: string,
  origin: 'server' | 'client',
  over: Partial<CallEvidence> = {},
) => ({
  code,
  details,
  call: call({ status: { code, details }, origin, ...over }),
});

const ROWS: [string, FailureEvidence, FailureReason][] = [
  // Provenance first: the server's words never make a transport reason.
  [
    'server text about certificates',
    seen(Status.INTERNAL, 'backend certificate has expired', 'server'),
    'rpc_error',
  ],
  [
    'server text with ECONNREFUSED',
    seen(Status.UNAVAILABLE, 'dial tcp 10.0.0.7:5432: connect: ECONNREFUSED', 'server'),
    'rpc_error',
  ],
  [
    'server copying grpc-js words',
    seen(
      Status.UNAVAILABLE,
      'No connection established. Last error: connect ECONNREFUSED 10.0.0.7:5432',
      'server',
    ),
    'rpc_error',
  ],
  [
    'server DEADLINE_EXCEEDED',
    seen(Status.DEADLINE_EXCEEDED, 'context deadline exceeded', 'server'),
    'rpc_error',
  ],
  [
    'server UNIMPLEMENTED',
    seen(Status.UNIMPLEMENTED, 'Too many responses received', 'server'),
    'unimplemented',
  ],
  ['server grpc-status "OK" (NaN)', seen(Number.NaN, '', 'server'), 'protocol_error'],
  [
    'assertion beats provenance',
    { ...seen(Status.INTERNAL, 'x', 'server'), assertionFailed: true },
    'assertion_failed',
  ],
  [
    'NOT_FOUND from Check is SERVICE_UNKNOWN',
    { ...seen(Status.NOT_FOUND, 'unknown service', 'server'), healthStatus: 'SERVICE_UNKNOWN' },
    'not_serving',
  ],
  // grpc-js's own statuses.
  [
    'refused',
    seen(
      Status.UNAVAILABLE,
      'No connection established. Last error: connect ECONNREFUSED 127.0.0.1:9 (2026-12-01T19:20:18Z)',
      'client',
    ),
    'connection_refused',
  ],
  [
    'unix socket missing',
    seen(
      Status.UNAVAILABLE,
      'No connection established. Last error: Error: connect ENOENT /tmp/x.sock. Resolution note: ',
      'client',
    ),
    'connection_refused',
  ],
  [
    'dns',
    seen(Status.UNAVAILABLE, 'Name resolution failed for target dns:orders.nowhere.test:50051', 'client'),
    'dns_error',
  ],
  [
    'TLS client, plaintext server',
    seen(
      Status.UNAVAILABLE,
      'No connection established. Last error: 80FC:error:0A00010B:SSL routines::wrong version number',
      'client',
    ),
    'tls_error',
  ],
  [
    'silent close, TLS sniff says TLS server',
    {
      ...seen(Status.UNAVAILABLE, 'No connection established. Last error: Failed to connect', 'client'),
      peerSpeaksTls: true,
    },
    'tls_error',
  ],
  [
    'silent close, our handshake rejected',
    {
      ...seen(Status.UNAVAILABLE, 'No connection established. Last error: Failed to connect', 'client'),
      tlsHandshakeFailed: true,
    },
    'tls_error',
  ],
  [
    'silent close, no TLS involved',
    seen(Status.UNAVAILABLE, 'No connection established. Last error: Failed to connect', 'client'),
    'connection_closed',
  ],
  ['reset', seen(Status.UNAVAILABLE, 'read ECONNRESET', 'client'), 'connection_reset'],
  [
    'GOAWAY PROTOCOL_ERROR reported as an RST code',
    { ...seen(Status.INTERNAL, 'Received RST_STREAM with code 1', 'client'), killedBy: 'goaway_error' },
    'connection_closed',
  ],
  [
    'GOAWAY ENHANCE_YOUR_CALM',
    {
      ...seen(Status.RESOURCE_EXHAUSTED, 'Bandwidth exhausted or memory limit exceeded', 'client'),
      killedBy: 'goaway_too_many_pings',
    },
    'connection_closed',
  ],
  [
    'RST under a call from a proxy',
    { ...seen(Status.UNAVAILABLE, 'Connection dropped', 'client'), killedBy: 'connection_reset' },
    'connection_reset',
  ],
  [
    'a real RST_STREAM',
    seen(Status.INTERNAL, 'Received RST_STREAM with code 2 (Internal server error)', 'client'),
    'stream_reset',
  ],
  ['REFUSED_STREAM', seen(Status.UNAVAILABLE, 'Stream refused by server', 'client'), 'stream_reset'],
  ['HTTP 502', seen(Status.UNAVAILABLE, 'Received HTTP status code 502', 'client'), 'http_error'],
  [
    'HTTP 404 (grpc-js says UNIMPLEMENTED)',
    seen(Status.UNIMPLEMENTED, 'Received HTTP status code 404', 'client'),
    'http_error',
  ],
  [
    'trailers without grpc-status behind 200',
    seen(Status.UNKNOWN, 'Received HTTP status code 200', 'client'),
    'protocol_error',
  ],
  [
    'HTML behind 200 (text/html)',
    seen(Status.RESOURCE_EXHAUSTED, 'Received message larger than max (1752460652 vs. 4194304)', 'client', {
      headers: true,
      contentType: 'text/html',
    }),
    'protocol_error',
  ],
  [
    'HTML behind 200 (says application/grpc): a text length',
    seen(Status.RESOURCE_EXHAUSTED, 'Received message larger than max (1752460652 vs. 4194304)', 'client', {
      headers: true,
      contentType: 'application/grpc',
    }),
    'protocol_error',
  ],
  [
    'a real oversized message',
    seen(Status.RESOURCE_EXHAUSTED, 'Received message larger than max (5242880 vs. 4194304)', 'client', {
      headers: true,
      contentType: 'application/grpc',
    }),
    'message_too_large',
  ],
  [
    'OK without a message (grpc-js replaced the server OK)',
    {
      code: Status.UNIMPLEMENTED,
      details: 'No message received',
      call: call({ status: { code: 0, details: '' }, origin: 'server', headers: true }),
    },
    'protocol_error',
  ],
  [
    'two messages on a unary call',
    {
      code: Status.UNIMPLEMENTED,
      details: 'Too many responses received',
      unary: true,
      call: call({ messages: 2, headers: true }),
    },
    'protocol_error',
  ],
  [
    'undecodable message',
    seen(Status.INTERNAL, 'Response message parsing error: index out of range: 5 + 10 > 5', 'client'),
    'protocol_error',
  ],
  ['no code at all (compression filter)', { call: call({ headers: true }) }, 'protocol_error'],
  [
    "no call at all (diagnose's raw TCP step)",
    { details: 'connect ECONNREFUSED 127.0.0.1:9' },
    'connection_refused',
  ],
  [
    'ended without status',
    seen(Status.INTERNAL, 'Received RST_STREAM with code 0 (Call ended without gRPC status)', 'client'),
    'protocol_error',
  ],
  [
    'deadline before a connection',
    {
      ...seen(Status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.001s,Waiting for LB pick', 'client'),
      connected: false,
    },
    'connect_timeout',
  ],
  [
    'deadline on a connection',
    seen(Status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.512s,remote_addr=127.0.0.1:38799', 'client'),
    'deadline_exceeded',
  ],
  [
    'a deadline is not "killed by" the disconnect after it',
    { ...seen(Status.DEADLINE_EXCEEDED, 'Deadline exceeded after 1.5s,remote_addr=127.0.0.1:1', 'client') },
    'deadline_exceeded',
  ],
  [
    'anything else grpc-js made up is unknown',
    seen(Status.UNAVAILABLE, 'Channel closed before call started', 'client'),
    'unknown',
  ],
];

describe('classifyFailure over recorded evidence', () => {
  it.each(ROWS)('%s', (_name, evidence, reason) => {
    expect(classifyFailure(evidence)).toBe(reason);
  });
});

describe('statusOrigin without the provenance tracer', () => {
  it.each([
    ['No connection established. Last error: connect ECONNREFUSED 1.2.3.4:5', 'client'],
    ['Received RST_STREAM with code 2 (Internal server error)', 'client'],
    ['dial tcp 10.0.0.7:5432: connect: ECONNREFUSED', 'server'],
    ['backend certificate has expired', 'server'],
  ] as const)('%s → %s', (details, origin) => {
    expect(statusOrigin({ code: Status.UNAVAILABLE, details })).toBe(origin);
  });

  it('the interceptor saw an OK that grpc-js then replaced: client', () => {
    expect(
      statusOrigin({
        code: 12,
        details: 'No message received',
        call: call({ status: { code: 0, details: '' }, origin: 'server' }),
      }),
    ).toBe('client');
  });
});

describe('StatusProvenance reads grpc-js 1.14 subchannel_call traces', () => {
  const line = (id: number, text: string) =>
    `2026-12-01T19:20:18.633Z | v1.14.7 4242 | subchannel_call | [${id}] ${text}`;

  it("a status from trailers is the server's, claimed once", () => {
    const ledger = new StatusProvenance();
    ledger.onTraceLine(line(7, 'received status code 14 from server'));
    ledger.onTraceLine(line(7, 'received status details string "dial tcp: ECONNREFUSED" from server'));
    ledger.onTraceLine(line(7, 'ended with status: code=14 details="dial tcp: ECONNREFUSED"'));
    expect(ledger.claim(14, 'dial tcp: ECONNREFUSED')).toBe(true);
    expect(ledger.claim(14, 'dial tcp: ECONNREFUSED')).toBe(false);
  });

  it('a status grpc-js made up (no "from server" line) is not', () => {
    const ledger = new StatusProvenance();
    ledger.onTraceLine(line(8, 'ended with status: code=14 details="Connection dropped"'));
    expect(ledger.claim(14, 'Connection dropped')).toBe(false);
  });

  it("a server OK that grpc-js replaced with its own status is not the server's", () => {
    const ledger = new StatusProvenance();
    ledger.onTraceLine(line(9, 'received status code 0 from server'));
    ledger.onTraceLine(line(9, 'ended with status: code=13 details="Response message parsing error: x"'));
    expect(ledger.claim(13, 'Response message parsing error: x')).toBe(false);
  });

  it('ignores other tracers and keeps multi-line details whole', () => {
    const ledger = new StatusProvenance();
    expect(ledger.onTraceLine('2026 | v1.14.7 1 | transport | (1) 127.0.0.1:1 session closed')).toBe(false);
    ledger.onTraceLine(line(3, 'received status code 2 from server'));
    ledger.onTraceLine(line(3, 'received status details string "a\nb" from server'));
    ledger.onTraceLine(line(3, 'ended with status: code=2 details="a\nb"'));
    expect(ledger.claim(2, 'a\nb')).toBe(true);
  });
});
