// Every failure reason of SPEC "Failure reasons", provoked for real on 127.0.0.1 and read back from
// /metrics. Each case runs a Check probe against one fault and requires that every failure it saw
// carries the expected reason (and so none is `unknown`).

import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { status as Status } from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { FailureReason } from '../src/outcome/failure-reasons.js';
import { NxdomainDnsServer } from './harness/dns-server.js';
import { GrpcTarget } from './harness/grpc-target.js';
import {
  answers,
  grpcAnswers,
  H2,
  Http1Target,
  RawH2Server,
  type RawHandler,
} from './harness/raw-h2-server.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import {
  type CertFiles,
  makeTlsMaterial,
  serverCredentials,
  type TlsMaterial,
} from './harness/tls-material.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

let tls: TlsMaterial;
beforeAll(() => {
  tls = makeTlsMaterial();
});

/** Starts a daemon with one Check-mode target "x" and waits for its first failure of `reason`. */
async function expectReason(address: string, reason: FailureReason, targetYaml = ''): Promise<RunningApp> {
  const app = await new RunningApp(
    testConfig(
      `  - name: x\n    address: "${address}"\n    interval: 1s\n    timeout: 500ms\n    health: [ { service: "", mode: check } ]\n${targetYaml}`,
    ),
  ).start();
  cleanup.push(() => app.close());
  await app.waitForMetricAtLeast(
    'grpc_probe_failures_total',
    { target: 'x', probe: 'health', reason },
    1,
    6000,
  );
  const failures = await app.byLabel('grpc_probe_failures_total', 'x', 'reason');
  const others = Object.entries(failures).filter(([r, n]) => r !== reason && n > 0);
  expect(others, `failures other than ${reason}`).toEqual([]);
  return app;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

async function raw(handler: RawHandler): Promise<RawH2Server> {
  const server = await new RawH2Server(handler).start();
  cleanup.push(() => server.close());
  return server;
}

async function tlsServer(cert: CertFiles, clientCa?: Buffer): Promise<string> {
  const target = await new GrpcTarget({
    health: { '': 'SERVING' },
    credentials: serverCredentials(cert, clientCa),
  }).start();
  cleanup.push(() => target.stop());
  return target.address;
}

const tlsYaml = (extra = 'server_name: localhost') => `    tls: { ca_file: "${tls.caFile}", ${extra} }\n`;

describe('connection failures', () => {
  it('dns_error: the name does not resolve (a real DNS server on 127.0.0.1 answers NXDOMAIN)', async () => {
    const dns = await new NxdomainDnsServer().start();
    cleanup.push(() => dns.close());
    await expectReason(`dns://127.0.0.1:${dns.port}/orders.does-not-exist.test:50051`, 'dns_error');
    expect(dns.queries).toBeGreaterThan(0);
  });

  it('connection_refused: nothing listens on the port', async () => {
    await expectReason(`127.0.0.1:${await closedPort()}`, 'connection_refused');
  });

  it('connect_timeout: a listener accepts TCP and never speaks HTTP/2', async () => {
    const sockets = new Set<Socket>();
    const silent: NetServer = createServer((socket) => sockets.add(socket));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.push(() => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((r) => silent.close(() => r()));
    });
    await expectReason(`127.0.0.1:${(silent.address() as { port: number }).port}`, 'connect_timeout');
  });

  it('connection_reset: a proxy answers the connection with a TCP RST', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    const proxy = await new TcpProxy(target.port).start();
    cleanup.push(() => proxy.close());
    proxy.mode = 'reset';
    await expectReason(proxy.address, 'connection_reset');
  });

  it('connection_closed: a proxy closes the connection (FIN) before HTTP/2 starts', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    const proxy = await new TcpProxy(target.port).start();
    cleanup.push(() => proxy.close());
    proxy.mode = 'close';
    await expectReason(proxy.address, 'connection_closed');
  });
});

describe('TLS failures are tls_error', () => {
  it('a TLS client meets a plaintext server', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    await expectReason(target.address, 'tls_error', tlsYaml());
  });

  it('a plaintext client meets a TLS server (told apart from a dropped connection by a TLS sniff)', async () => {
    await expectReason(await tlsServer(tls.server), 'tls_error');
  });

  it('the certificate does not name the host', async () => {
    await expectReason(await tlsServer(tls.server), 'tls_error', tlsYaml('server_name: orders.example'));
  });

  it('the certificate comes from an unknown CA', async () => {
    await expectReason(await tlsServer(tls.foreign), 'tls_error', tlsYaml());
  });

  it('the certificate has expired', async () => {
    await expectReason(await tlsServer(tls.expired), 'tls_error', tlsYaml());
  });

  it('mTLS: the server requires a client certificate we do not send', async () => {
    await expectReason(await tlsServer(tls.server, tls.caPem), 'tls_error', tlsYaml());
  });

  it('mTLS with a client certificate succeeds', async () => {
    const address = await tlsServer(tls.server, tls.caPem);
    const app = await new RunningApp(
      testConfig(
        `  - name: x\n    address: "${address}"\n${tlsYaml(`server_name: localhost, cert_file: "${tls.client.cert}", key_file: "${tls.client.key}"`)}`,
      ),
    ).start();
    cleanup.push(() => app.close());
    await app.waitForMetric(
      'grpc_probe_health_status',
      { target: 'x', health_service: '', status: 'SERVING' },
      1,
    );
  });
});

describe('HTTP/2 stream and protocol failures', () => {
  it.each([
    ['PROTOCOL_ERROR', H2.NGHTTP2_PROTOCOL_ERROR],
    ['INTERNAL_ERROR', H2.NGHTTP2_INTERNAL_ERROR],
    ['REFUSED_STREAM', H2.NGHTTP2_REFUSED_STREAM],
    ['CANCEL', H2.NGHTTP2_CANCEL],
    ['ENHANCE_YOUR_CALM', H2.NGHTTP2_ENHANCE_YOUR_CALM],
    ['INADEQUATE_SECURITY', H2.NGHTTP2_INADEQUATE_SECURITY],
  ])('stream_reset: RST_STREAM %s', async (_name, code) => {
    await expectReason((await raw(answers.rstStream(code))).address, 'stream_reset');
  });

  it('protocol_error: RST_STREAM NO_ERROR ends the stream without a gRPC status', async () => {
    await expectReason((await raw(answers.rstStream(H2.NGHTTP2_NO_ERROR))).address, 'protocol_error');
  });

  it('protocol_error: 200 with application/grpc and no grpc-status', async () => {
    await expectReason((await raw(answers.noGrpcStatus())).address, 'protocol_error');
  });

  it('protocol_error: the peer speaks HTTP/1.1', async () => {
    const http1 = await new Http1Target().start();
    cleanup.push(() => http1.close());
    await expectReason(http1.address, 'protocol_error');
  });

  it.each([502, 503, 404])('http_error: an HTML error page with status %i', async (status) => {
    await expectReason((await raw(answers.httpError(status))).address, 'http_error');
  });

  it('deadline_exceeded: connected, but the stream is never answered', async () => {
    await expectReason((await raw(answers.silent())).address, 'deadline_exceeded');
  });

  it('message_too_large: the response is larger than the receive limit', async () => {
    await expectReason((await raw(grpcAnswers.oversized())).address, 'message_too_large');
  });
});

describe('answers from the server', () => {
  it('unimplemented: the server has no health service', async () => {
    const target = await new GrpcTarget({}).start();
    cleanup.push(() => target.stop());
    const app = await expectReason(target.address, 'unimplemented');
    expect(
      await app.metric('grpc_probe_handled_total', {
        target: 'x',
        probe: 'health',
        grpc_code: 'Unimplemented',
      }),
    ).toBeGreaterThan(0);
  });

  it('not_serving: the server answers NOT_SERVING', async () => {
    const target = await new GrpcTarget({ health: { '': 'NOT_SERVING' } }).start();
    cleanup.push(() => target.stop());
    await expectReason(target.address, 'not_serving');
  });

  it('rpc_error: the server answers a status of its own (PERMISSION_DENIED)', async () => {
    const server = await raw(grpcAnswers.status(Status.PERMISSION_DENIED, 'no access'));
    const app = await expectReason(server.address, 'rpc_error');
    expect(
      await app.metric('grpc_probe_handled_total', {
        target: 'x',
        probe: 'health',
        grpc_code: 'PermissionDenied',
      }),
    ).toBeGreaterThan(0);
  });
});
