// The fault matrix: every fault the classifier must name, each with the reason SPEC "Failure reasons"
// gives it. Each fault starts a real peer on 127.0.0.1 (raw HTTP/2 frame servers, raw TCP peers, TLS
// peers, real grpc-js servers, a DNS server) and says how a client reaches it.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import type { FailureReason } from '../../src/outcome/failure-reasons.js';
import { ChildServer, DEBIAN_PYTHON, hasPythonGrpc } from '../harness/child-server.js';
import { NxdomainDnsServer } from '../harness/dns-server.js';
import {
  afterServing,
  dropUnderCall,
  goawayRefusing,
  goawayUnderCall,
  grpcFrame,
  H2,
  NOT_SERVING_BYTES,
  peers,
  SERVING_BYTES,
  StatusServer,
  scripted,
  sent,
  TcpPeer,
  TlsPeer,
} from '../harness/fault-servers.js';
import { GrpcTarget } from '../harness/grpc-target.js';
import { answers, Http1Target, RawH2Server, type RawHandler } from '../harness/raw-h2-server.js';
import { TcpProxy } from '../harness/tcp-proxy.js';
import { makeTlsMaterial, serverCredentials, type TlsMaterial } from '../harness/tls-material.js';

/** How a client reaches a running fault: the address, and TLS settings for both doors. */
export interface RunningFault {
  address: string;
  /** YAML of the target's tls: block (one line), or "" for plaintext. */
  tlsYaml: string;
  /** The same settings as `grpc-pulse check` flags. */
  checkArgs: string[];
  close(): Promise<void>;
}

export interface Fault {
  /** Target name in the daemon (kebab case). */
  name: string;
  family: string;
  expected: FailureReason;
  /** The health probe mode (default check). */
  mode?: 'check' | 'watch';
  /** Health service to ask for (default ""). */
  service?: string;
  /** Faults that only exist under a live connection are not run through `check` (one call). */
  daemonOnly?: boolean;
  /** Started after every other fault: a closed port must not be handed to a later server. */
  startLast?: boolean;
  start(env: FaultEnv): Promise<RunningFault>;
}

export interface FaultEnv {
  tls: TlsMaterial;
  dir: string;
}

export function faultEnv(): FaultEnv {
  return { tls: makeTlsMaterial(), dir: mkdtempSync(join(tmpdir(), 'faults-')) };
}

interface TlsClient {
  ca?: string;
  cert?: string;
  key?: string;
  serverName?: string;
  noVerify?: boolean;
}

function tlsFor(client: TlsClient | undefined): Pick<RunningFault, 'tlsYaml' | 'checkArgs'> {
  if (!client) return { tlsYaml: '', checkArgs: [] };
  const yaml: string[] = [];
  const args = ['-tls'];
  if (client.ca) {
    yaml.push(`ca_file: "${client.ca}"`);
    args.push('-tls-ca-cert', client.ca);
  }
  if (client.cert && client.key) {
    yaml.push(`cert_file: "${client.cert}"`, `key_file: "${client.key}"`);
    args.push('-tls-client-cert', client.cert, '-tls-client-key', client.key);
  }
  if (client.serverName) {
    yaml.push(`server_name: ${client.serverName}`);
    args.push('-tls-server-name', client.serverName);
  }
  if (client.noVerify) {
    yaml.push('insecure_skip_verify: true');
    args.push('-tls-no-verify');
  }
  return { tlsYaml: `    tls: { ${yaml.join(', ')} }\n`, checkArgs: args };
}

function running(address: string, close: () => Promise<void> | void, client?: TlsClient): RunningFault {
  return { address, ...tlsFor(client), close: async () => void (await close()) };
}

async function raw(handler: RawHandler, client?: TlsClient): Promise<RunningFault> {
  const server = await new RawH2Server(handler).start();
  return running(server.address, () => server.close(), client);
}

async function peer(make: () => TcpPeer, client?: TlsClient): Promise<RunningFault> {
  const server = await make().start();
  return running(server.address, () => server.close(), client);
}

async function grpcTarget(
  options: ConstructorParameters<typeof GrpcTarget>[0],
  client?: TlsClient,
): Promise<RunningFault> {
  const target = await new GrpcTarget(options).start();
  return running(target.address, () => target.stop(), client);
}

async function statusServer(code: number, details: string): Promise<RunningFault> {
  const server = await new StatusServer(code, details).start();
  return running(server.address, () => server.close());
}

async function closedPort(): Promise<number> {
  const server = await new TcpPeer(() => {}).start();
  const port = server.port;
  await server.close();
  return port;
}

const verified = (env: FaultEnv): TlsClient => ({ ca: env.tls.caFile, serverName: 'localhost' });

/** A gzip-looking frame that is not gzip. */
const notGzip = grpcFrame(Buffer.from('definitely not gzip data'), 1);

// Faults are grouped by family; the expected reason is SPEC's, not what the code happens to say.
export const FAULTS: Fault[] = [
  // --- names and addresses -----------------------------------------------------------------------
  {
    name: 'dns-nxdomain',
    family: 'address',
    expected: 'dns_error',
    async start() {
      const dns = await new NxdomainDnsServer(3).start();
      return running(`dns://127.0.0.1:${dns.port}/orders.nowhere.test:50051`, () => dns.close());
    },
  },
  {
    name: 'dns-servfail',
    family: 'address',
    expected: 'dns_error',
    async start() {
      const dns = await new NxdomainDnsServer(2).start();
      return running(`dns://127.0.0.1:${dns.port}/orders.broken.test:50051`, () => dns.close());
    },
  },
  {
    name: 'refused',
    family: 'address',
    startLast: true,
    expected: 'connection_refused',
    async start() {
      return running(`127.0.0.1:${await closedPort()}`, () => {});
    },
  },
  {
    name: 'refused-ipv4-scheme',
    family: 'address',
    startLast: true,
    expected: 'connection_refused',
    async start() {
      return running(`ipv4:127.0.0.1:${await closedPort()}`, () => {});
    },
  },
  {
    name: 'unix-missing',
    family: 'address',
    expected: 'connection_refused',
    async start(env) {
      return running(`unix:${join(env.dir, 'no-such.sock')}`, () => {});
    },
  },
  {
    name: 'unix-not-a-socket',
    family: 'address',
    expected: 'connection_refused',
    async start(env) {
      const path = join(env.dir, 'plain-file');
      writeFileSync(path, 'not a socket');
      return running(`unix:${path}`, () => {});
    },
  },
  {
    name: 'silent-listener',
    family: 'address',
    expected: 'connect_timeout',
    start: () => peer(peers.silent),
  },
  // --- the TCP connection -------------------------------------------------------------------------
  {
    name: 'rst-on-accept',
    family: 'tcp',
    expected: 'connection_reset',
    async start() {
      const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
      const proxy = await new TcpProxy(target.port).start();
      proxy.mode = 'reset';
      return running(proxy.address, async () => {
        await proxy.close();
        await target.stop();
      });
    },
  },
  {
    name: 'fin-on-accept',
    family: 'tcp',
    expected: 'connection_closed',
    async start() {
      const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
      const proxy = await new TcpProxy(target.port).start();
      proxy.mode = 'close';
      return running(proxy.address, async () => {
        await proxy.close();
        await target.stop();
      });
    },
  },
  {
    name: 'fin-after-preface',
    family: 'tcp',
    expected: 'connection_closed',
    start: () => peer(peers.finAfterPreface),
  },
  {
    name: 'rst-after-preface',
    family: 'tcp',
    expected: 'connection_reset',
    start: () => peer(peers.rstAfterPreface),
  },
  {
    name: 'fin-under-call',
    family: 'tcp',
    expected: 'connection_closed',
    daemonOnly: true,
    start: () => raw(afterServing(1, dropUnderCall('fin'))),
  },
  {
    name: 'rst-under-call',
    family: 'tcp',
    expected: 'connection_reset',
    daemonOnly: true,
    async start() {
      // The reset comes from a proxy in front of a server that accepts the call and never answers.
      let proxy: TcpProxy | undefined;
      const server = await new RawH2Server(
        afterServing(1, (stream) => {
          stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
          setTimeout(() => proxy?.resetAll(), 20).unref();
        }),
      ).start();
      proxy = await new TcpProxy(server.port).start();
      const p = proxy;
      return running(p.address, async () => {
        await p.close();
        await server.close();
      });
    },
  },
  // --- TLS ----------------------------------------------------------------------------------------
  {
    name: 'tls-client-plaintext-grpc',
    family: 'tls',
    expected: 'tls_error',
    start: (env) => grpcTarget({ health: { '': 'SERVING' } }, verified(env)),
  },
  {
    name: 'tls-client-plaintext-h2',
    family: 'tls',
    expected: 'tls_error',
    start: (env) => raw(sent.messageThen(SERVING_BYTES), verified(env)),
  },
  {
    name: 'tls-client-http1',
    family: 'tls',
    expected: 'tls_error',
    start: (env) => peer(peers.http1BadRequest, verified(env)),
  },
  {
    name: 'plaintext-client-tls-server',
    family: 'tls',
    expected: 'tls_error',
    start: (env) => grpcTarget({ health: { '': 'SERVING' }, credentials: serverCredentials(env.tls.server) }),
  },
  {
    name: 'plaintext-client-mtls-server',
    family: 'tls',
    expected: 'tls_error',
    start: (env) =>
      grpcTarget({
        health: { '': 'SERVING' },
        credentials: serverCredentials(env.tls.server, env.tls.caPem),
      }),
  },
  {
    name: 'tls-wrong-name',
    family: 'tls',
    expected: 'tls_error',
    start: (env) =>
      grpcTarget(
        { health: { '': 'SERVING' }, credentials: serverCredentials(env.tls.server) },
        { ca: env.tls.caFile, serverName: 'orders.example' },
      ),
  },
  {
    name: 'tls-unknown-ca',
    family: 'tls',
    expected: 'tls_error',
    start: (env) =>
      grpcTarget(
        { health: { '': 'SERVING' }, credentials: serverCredentials(env.tls.foreign) },
        verified(env),
      ),
  },
  {
    name: 'tls-expired',
    family: 'tls',
    expected: 'tls_error',
    start: (env) =>
      grpcTarget(
        { health: { '': 'SERVING' }, credentials: serverCredentials(env.tls.expired) },
        verified(env),
      ),
  },
  {
    name: 'tls-system-roots-self-signed-ca',
    family: 'tls',
    expected: 'tls_error',
    start: (env) =>
      grpcTarget(
        { health: { '': 'SERVING' }, credentials: serverCredentials(env.tls.server) },
        { serverName: 'localhost' },
      ),
  },
  {
    name: 'mtls-no-client-cert',
    family: 'tls',
    expected: 'tls_error',
    start: (env) =>
      grpcTarget(
        { health: { '': 'SERVING' }, credentials: serverCredentials(env.tls.server, env.tls.caPem) },
        verified(env),
      ),
  },
  {
    name: 'mtls-foreign-client-cert',
    family: 'tls',
    expected: 'tls_error',
    start: (env) =>
      grpcTarget(
        { health: { '': 'SERVING' }, credentials: serverCredentials(env.tls.server, env.tls.caPem) },
        { ...verified(env), cert: env.tls.foreign.cert, key: env.tls.foreign.key },
      ),
  },
  {
    name: 'mtls-no-client-cert-raw',
    family: 'tls',
    expected: 'tls_error',
    async start(env) {
      const server = await new TlsPeer({
        cert: env.tls.server.certPem,
        key: env.tls.server.keyPem,
        ca: env.tls.caPem,
        requestCert: true,
        alpn: ['h2'],
      }).start();
      return running(server.address, () => server.close(), verified(env));
    },
  },
  {
    name: 'tls-no-h2-alpn',
    family: 'tls',
    expected: 'tls_error',
    async start(env) {
      const server = await new TlsPeer(
        { cert: env.tls.server.certPem, key: env.tls.server.keyPem, alpn: ['http/1.1'] },
        (socket) =>
          socket.once('data', () => socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')),
      ).start();
      return running(server.address, () => server.close(), verified(env));
    },
  },
  {
    name: 'tls-handshake-stall',
    family: 'tls',
    expected: 'connect_timeout',
    start: (env) => peer(peers.silent, verified(env)),
  },
  // --- not an HTTP/2 peer --------------------------------------------------------------------------
  {
    name: 'http1-server',
    family: 'protocol',
    expected: 'protocol_error',
    async start() {
      const server = await new Http1Target().start();
      return running(server.address, () => server.close());
    },
  },
  {
    name: 'http1-400-to-preface',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => peer(peers.http1BadRequest),
  },
  { name: 'ssh-banner', family: 'protocol', expected: 'protocol_error', start: () => peer(peers.ssh) },
  { name: 'garbage-bytes', family: 'protocol', expected: 'protocol_error', start: () => peer(peers.garbage) },
  // --- HTTP answers that are not gRPC -------------------------------------------------------------
  ...[502, 503, 504, 404, 429, 401, 403, 500].map(
    (status): Fault => ({
      name: `http-${status}-html`,
      family: 'http',
      expected: 'http_error',
      start: () => raw(answers.httpError(status)),
    }),
  ),
  {
    name: 'http-503-empty',
    family: 'http',
    expected: 'http_error',
    start: () => raw(scripted({ headers: { ':status': 503 }, trailers: undefined })),
  },
  // --- gRPC protocol violations -------------------------------------------------------------------
  {
    name: 'html-behind-200',
    family: 'protocol',
    expected: 'protocol_error',
    start: () =>
      raw(
        scripted({
          headers: { ':status': 200, 'content-type': 'text/html' },
          body: [Buffer.from('<html><body>Welcome to nginx!</body></html>')],
        }),
      ),
  },
  {
    name: 'html-behind-200-grpc-type',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(scripted({ body: [Buffer.from('<html><body>It works!</body></html>')] })),
  },
  {
    name: 'json-behind-200',
    family: 'protocol',
    expected: 'protocol_error',
    start: () =>
      raw(
        scripted({
          headers: { ':status': 200, 'content-type': 'application/json' },
          body: [Buffer.from('{"status":"ok"}')],
        }),
      ),
  },
  {
    name: 'no-grpc-status',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(answers.noGrpcStatus()),
  },
  {
    name: 'message-then-no-status',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(scripted({ body: [grpcFrame(SERVING_BYTES)] })),
  },
  {
    name: 'trailers-without-grpc-status',
    family: 'protocol',
    expected: 'protocol_error',
    start: () =>
      raw(scripted({ body: [grpcFrame(SERVING_BYTES)], trailers: { 'x-envoy-upstream': 'gone' } })),
  },
  {
    name: 'non-numeric-grpc-status',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(sent.trailersOnly('OK', '')),
  },
  {
    name: 'non-numeric-grpc-status-after-message',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(scripted({ body: [grpcFrame(SERVING_BYTES)], trailers: { 'grpc-status': 'fine' } })),
  },
  {
    name: 'undecodable-message',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(sent.messageThen(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff]))),
  },
  {
    name: 'ok-without-message',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(sent.afterHeaders(0, '')),
  },
  {
    name: 'ok-trailers-only-without-message',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(sent.trailersOnly(0, '')),
  },
  {
    name: 'two-messages-on-unary',
    family: 'protocol',
    expected: 'protocol_error',
    start: () =>
      raw(
        scripted({
          body: [grpcFrame(SERVING_BYTES), grpcFrame(SERVING_BYTES)],
          trailers: { 'grpc-status': '0' },
        }),
      ),
  },
  {
    name: 'compressed-without-encoding',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(scripted({ body: [grpcFrame(SERVING_BYTES, 1)], trailers: { 'grpc-status': '0' } })),
  },
  {
    name: 'unknown-encoding',
    family: 'protocol',
    expected: 'protocol_error',
    start: () =>
      raw(
        scripted({
          headers: { ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'snappy' },
          body: [grpcFrame(SERVING_BYTES, 1)],
          trailers: { 'grpc-status': '0' },
        }),
      ),
  },
  {
    name: 'corrupt-gzip',
    family: 'protocol',
    expected: 'protocol_error',
    start: () =>
      raw(
        scripted({
          headers: { ':status': 200, 'content-type': 'application/grpc', 'grpc-encoding': 'gzip' },
          body: [notGzip],
          trailers: { 'grpc-status': '0' },
        }),
      ),
  },
  {
    name: 'truncated-message',
    family: 'protocol',
    expected: 'protocol_error',
    start: () =>
      raw(scripted({ body: [grpcFrame(SERVING_BYTES).subarray(0, 6)], trailers: { 'grpc-status': '0' } })),
  },
  {
    name: 'rst-no-error',
    family: 'protocol',
    expected: 'protocol_error',
    start: () => raw(answers.rstStream(H2.NGHTTP2_NO_ERROR)),
  },
  // --- sizes --------------------------------------------------------------------------------------
  {
    name: 'oversized-prefix',
    family: 'size',
    expected: 'message_too_large',
    start: () => raw(answers_oversized()),
  },
  // --- HTTP/2 stream resets -----------------------------------------------------------------------
  ...(
    [
      ['PROTOCOL_ERROR', H2.NGHTTP2_PROTOCOL_ERROR],
      ['INTERNAL_ERROR', H2.NGHTTP2_INTERNAL_ERROR],
      ['FLOW_CONTROL_ERROR', H2.NGHTTP2_FLOW_CONTROL_ERROR],
      ['REFUSED_STREAM', H2.NGHTTP2_REFUSED_STREAM],
      ['CANCEL', H2.NGHTTP2_CANCEL],
      ['COMPRESSION_ERROR', H2.NGHTTP2_COMPRESSION_ERROR],
      ['ENHANCE_YOUR_CALM', H2.NGHTTP2_ENHANCE_YOUR_CALM],
      ['INADEQUATE_SECURITY', H2.NGHTTP2_INADEQUATE_SECURITY],
      ['HTTP_1_1_REQUIRED', H2.NGHTTP2_HTTP_1_1_REQUIRED],
    ] as const
  ).map(
    ([label, code]): Fault => ({
      name: `rst-${label.toLowerCase().replaceAll('_', '-')}`,
      family: 'stream',
      expected: 'stream_reset',
      start: () => raw(answers.rstStream(code)),
    }),
  ),
  // --- GOAWAY kills the call ----------------------------------------------------------------------
  ...(
    [
      ['no-error', H2.NGHTTP2_NO_ERROR, ''],
      ['protocol-error', H2.NGHTTP2_PROTOCOL_ERROR, ''],
      ['internal-error', H2.NGHTTP2_INTERNAL_ERROR, ''],
      ['enhance-your-calm', H2.NGHTTP2_ENHANCE_YOUR_CALM, ''],
      ['too-many-pings', H2.NGHTTP2_ENHANCE_YOUR_CALM, 'too_many_pings'],
    ] as const
  ).flatMap(([label, code, data]): Fault[] => [
    {
      name: `goaway-${label}-under-call`,
      family: 'goaway',
      expected: 'connection_closed',
      daemonOnly: true,
      start: () => raw(afterServing(1, goawayUnderCall(code, data))),
    },
    {
      name: `goaway-${label}-refusing`,
      family: 'goaway',
      expected: 'connection_closed',
      start: () => raw(goawayRefusing(code, data)),
    },
  ]),
  {
    name: 'watch-goaway-protocol-error',
    family: 'goaway',
    expected: 'connection_closed',
    mode: 'watch',
    daemonOnly: true,
    start: () =>
      raw((stream, _headers, session) => {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
        stream.write(grpcFrame(SERVING_BYTES));
        setTimeout(() => {
          // The client may have gone meanwhile: goaway() on a destroyed session throws.
          if (session.destroyed) return;
          session.goaway(H2.NGHTTP2_PROTOCOL_ERROR, stream.id ?? 0, Buffer.alloc(0));
          setTimeout(() => session.destroy(), 20).unref();
        }, 300).unref();
      }),
  },
  // --- deadlines ----------------------------------------------------------------------------------
  {
    name: 'never-answers',
    family: 'deadline',
    expected: 'deadline_exceeded',
    start: () => raw(answers.silent()),
  },
  {
    name: 'headers-then-silence',
    family: 'deadline',
    expected: 'deadline_exceeded',
    start: () => raw((stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc' })),
  },
  {
    name: 'watch-no-first-message',
    family: 'deadline',
    expected: 'deadline_exceeded',
    mode: 'watch',
    start: () => raw((stream) => stream.respond({ ':status': 200, 'content-type': 'application/grpc' })),
  },
  // --- statuses the server chose: judged by code alone (provenance) -------------------------------
  ...(
    [
      ['cert-words', Status.INTERNAL, 'backend certificate has expired'],
      ['econnrefused-words', Status.UNAVAILABLE, 'dial tcp 10.0.0.7:5432: connect: ECONNREFUSED'],
      [
        'grpc-js-refused-words',
        Status.UNAVAILABLE,
        'No connection established. Last error: connect ECONNREFUSED 10.0.0.7:5432',
      ],
      ['rst-words', Status.INTERNAL, 'Received RST_STREAM with code 2 (Internal server error)'],
      ['too-large-words', Status.RESOURCE_EXHAUSTED, 'Received message larger than max (5242880 vs 4194304)'],
      ['protocol-words', Status.UNKNOWN, 'Protocol error'],
      [
        'envoy-reset-words',
        Status.UNAVAILABLE,
        'upstream connect error or disconnect/reset before headers. reset reason: connection termination',
      ],
      ['dns-words', Status.UNAVAILABLE, 'Name resolution failed for target dns:db.internal:5432'],
      ['handshake-words', Status.UNAVAILABLE, 'TLS handshake failed: alert certificate unknown'],
      ['deadline-from-upstream', Status.DEADLINE_EXCEEDED, 'context deadline exceeded'],
      ['cancelled-words', Status.CANCELLED, 'Call cancelled'],
      ['dropped-words', Status.UNAVAILABLE, 'Connection dropped'],
      ['http-status-words', Status.UNAVAILABLE, 'Received HTTP status code 503'],
      ['permission-denied', Status.PERMISSION_DENIED, 'no access'],
    ] as const
  ).map(
    ([label, code, message], i): Fault => ({
      name: `server-${label}`,
      family: 'provenance',
      expected: 'rpc_error',
      // Alternate the two ways a status arrives: trailers-only, and trailers after headers.
      start: () => raw(i % 2 === 0 ? sent.trailersOnly(code, message) : sent.afterHeaders(code, message)),
    }),
  ),
  {
    name: 'server-503-with-grpc-status',
    family: 'provenance',
    expected: 'rpc_error',
    start: () =>
      raw((stream) =>
        stream.respond(
          {
            ':status': 503,
            'content-type': 'application/grpc',
            'grpc-status': '14',
            'grpc-message': 'overloaded',
          },
          { endStream: true },
        ),
      ),
  },
  {
    name: 'grpcjs-server-econnreset-words',
    family: 'provenance',
    expected: 'rpc_error',
    start: () => statusServer(Status.UNAVAILABLE, 'read ECONNRESET from upstream 10.1.2.3:443'),
  },
  {
    name: 'grpcjs-server-ssl-words',
    family: 'provenance',
    expected: 'rpc_error',
    start: () =>
      statusServer(Status.INTERNAL, 'SSL routines: certificate verify failed (self-signed certificate)'),
  },
  {
    name: 'grpcjs-server-too-many-responses-words',
    family: 'provenance',
    expected: 'unimplemented',
    start: () => statusServer(Status.UNIMPLEMENTED, 'Too many responses received'),
  },
  {
    name: 'watch-server-unavailable-words',
    family: 'provenance',
    expected: 'rpc_error',
    mode: 'watch',
    daemonOnly: true,
    start: () => statusServer(Status.UNAVAILABLE, 'connect ECONNREFUSED 10.9.9.9:80'),
  },
  // --- a C-core peer (python3-grpcio) ------------------------------------------------------------
  ...(hasPythonGrpc()
    ? (
        [
          [
            'ccore-unavailable-refused-words',
            'UNAVAILABLE',
            'failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.7:5432: Failed to connect to remote host: Connection refused',
            'rpc_error',
          ],
          [
            'ccore-internal-ssl-words',
            'INTERNAL',
            'SSL_ERROR_SSL: error:1000007d:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED',
            'rpc_error',
          ],
          ['ccore-unimplemented', 'UNIMPLEMENTED', 'Method not found!', 'unimplemented'],
          ['ccore-deadline-words', 'DEADLINE_EXCEEDED', 'Deadline Exceeded', 'rpc_error'],
        ] as const
      ).map(
        ([name, code, details, expected]): Fault => ({
          name,
          family: 'provenance',
          expected,
          async start() {
            const server = await ChildServer.start(DEBIAN_PYTHON, [
              'test/fixtures/python/status_server.py',
              '--code',
              code,
              '--details',
              details,
            ]);
            return running(server.address, () => server.kill());
          },
        }),
      )
    : []),
  // --- health answers -----------------------------------------------------------------------------
  { name: 'no-health-service', family: 'health', expected: 'unimplemented', start: () => grpcTarget({}) },
  {
    name: 'not-serving',
    family: 'health',
    expected: 'not_serving',
    start: () => grpcTarget({ health: { '': 'NOT_SERVING' } }),
  },
  {
    name: 'unknown-service',
    family: 'health',
    expected: 'not_serving',
    service: 'orders.v1.Nope',
    start: () => grpcTarget({ health: { '': 'SERVING' } }),
  },
  {
    name: 'raw-not-serving',
    family: 'health',
    expected: 'not_serving',
    start: () => raw(sent.messageThen(NOT_SERVING_BYTES)),
  },
  {
    name: 'watch-not-serving',
    family: 'health',
    expected: 'not_serving',
    mode: 'watch',
    start: () => grpcTarget({ health: { '': 'NOT_SERVING' } }),
  },
];

/** A length prefix of 5 MiB with only a little data behind it. */
function answers_oversized(): RawHandler {
  return (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    const header = Buffer.alloc(5);
    header.writeUInt32BE(5 * 1024 * 1024, 1);
    stream.write(header);
    stream.write(Buffer.alloc(1024));
  };
}
