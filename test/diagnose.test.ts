// `grpc-pulse diagnose` layer by layer against real servers: each test provokes one failing layer and
// asserts the step's status, its classified reason with the docs' cause and fix, and the exit code.

import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './harness/cli-process.js';
import { diagnoseJson, expectDocs } from './harness/diagnose-run.js';
import { DiagnoseGrpcServer, Http1OnlyTlsServer, TableDnsServer } from './harness/diagnose-servers.js';
import { NxdomainDnsServer } from './harness/dns-server.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { listenLoopback } from './harness/listen.js';
import { answers, Http1Target, RawH2Server } from './harness/raw-h2-server.js';
import { tempDir } from './harness/services.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { makeTlsMaterial, serverCredentials, type TlsMaterial } from './harness/tls-material.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function later<T extends { close?: () => Promise<void>; stop?: () => Promise<void> }>(server: T): T {
  cleanup.push(() => (server.close ?? server.stop)?.call(server));
  return server;
}

/** A port nothing listens on: bound, then closed. */
async function deadPort(): Promise<number> {
  const server = createServer();
  const port = await listenLoopback(server);
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

let tls: TlsMaterial | undefined;
function material(): TlsMaterial {
  tls ??= makeTlsMaterial();
  return tls;
}

describe('grpc-pulse diagnose: layers', () => {
  it('a healthy grpc-js server with reflection: every step ok, exit 0, services listed', async () => {
    const server = later(
      await new DiagnoseGrpcServer({ health: { '': 'SERVING' }, reflection: true }).start(),
    );
    const run = await diagnoseJson([server.address]);
    expect(run.code).toBe(0);
    expect(Object.keys(run.report).sort()).toEqual(['address', 'findings', 'steps']);
    expect(run.report.address).toBe(server.address);
    for (const name of ['dns', 'tcp', 'http2', 'health-check', 'health-watch', 'health-list', 'reflection']) {
      expect(run.step(name).status, name).toBe('ok');
    }
    for (const name of ['idle-test', 'max-connection-age', 'ping-test'])
      expect(run.step(name).status).toBe('skipped');
    expect(run.step('http2').detail).toMatch(/max_concurrent_streams=\d+ .*PING RTT [\d.]+ ms/);
    expect(run.step('health-list').detail).toContain('""=SERVING');
    // @grpc/reflection lists the services of the package definition it was given.
    expect(run.report.findings.services).toEqual(['grpc.health.v1.Health']);
    expect(run.step('reflection').detail).toBe('v1: 1 services: grpc.health.v1.Health');
    for (const step of run.report.steps) {
      expect(
        Object.keys(step).every((k) => ['name', 'status', 'ms', 'detail', 'cause', 'fix'].includes(k)),
      ).toBe(true);
      expect(typeof step.ms).toBe('number');
    }
  });

  it('nothing listening: tcp fails connection_refused with the docs cause, exit 2', async () => {
    const port = await deadPort();
    const run = await diagnoseJson([`127.0.0.1:${port}`, '--connect-timeout', '2s']);
    expect(run.code).toBe(2);
    const tcp = run.step('tcp');
    expect(tcp.status).toBe('fail');
    expect(tcp.detail).toMatch(/^connection_refused: .*ECONNREFUSED/);
    expectDocs(tcp, 'connection_refused');
    expect(run.step('http2').status).toBe('skipped');
    expect(run.step('health-check').status).toBe('skipped');
  });

  it('a name the DNS server does not know: dns fails dns_error, exit 2', async () => {
    const dns = later(await new NxdomainDnsServer().start());
    const run = await diagnoseJson([`dns://127.0.0.1:${dns.port}/orders.missing.test:50051`]);
    expect(run.code).toBe(2);
    expect(run.step('dns').status).toBe('fail');
    expectDocs(run.step('dns'), 'dns_error');
    expect(run.step('dns').detail).toMatch(/^dns_error: orders\.missing\.test/);
    expect(run.step('tcp').status).toBe('skipped');
    expect(dns.queries).toBeGreaterThan(0);
  });

  it('a Unix socket: every layer over it, exit 0; a socket that does not exist is connection_refused, exit 2', async () => {
    const path = join(tempDir('diagnose-unix'), 'grpc.sock');
    later(
      await new DiagnoseGrpcServer({ health: { '': 'SERVING' }, reflection: true, unixPath: path }).start(),
    );
    const run = await diagnoseJson([`unix:${path}`]);
    expect(run.code).toBe(0);
    expect(run.step('dns').detail).toBe(`unix socket ${path}: no lookup`);
    expect(run.step('tcp').detail).toBe(`unix:${path} connected`);
    for (const name of ['http2', 'health-check', 'health-watch', 'reflection'])
      expect(run.step(name).status).toBe('ok');
    const missing = await diagnoseJson([`unix:${path}.missing`]);
    expect(missing.code).toBe(2);
    expect(missing.step('tcp').detail).toMatch(/^connection_refused: unix:.*\.missing: connect ENOENT/);
    expectDocs(missing.step('tcp'), 'connection_refused');
  });

  it('a Kubernetes Service name with one address: dns warns with the headless-Service hint, exit 0', async () => {
    const server = later(await new DiagnoseGrpcServer({ health: { '': 'SERVING' } }).start());
    const name = 'orders.shop.svc.cluster.local';
    const dns = later(await new TableDnsServer({ [name]: ['127.0.0.1'] }).start());
    const run = await diagnoseJson([`dns://127.0.0.1:${dns.port}/${name}:${server.port}`]);
    expect(run.code).toBe(0);
    const step = run.step('dns');
    expect(step.status).toBe('warn');
    expect(step.detail).toContain(`127.0.0.1 (A) via 127.0.0.1:${dns.port}`);
    expect(step.fix).toMatch(/headless Service \(`clusterIP: None`\)/);
    expect(run.step('health-check').status).toBe('ok');
  });

  it('a name with two addresses: a tcp step for each, the dead one warns, exit 0 through the live one', async () => {
    const server = later(await new DiagnoseGrpcServer({ health: { '': 'SERVING' } }).start());
    // 127.0.0.2 is loopback too, but the server listens on 127.0.0.1 only.
    const dns = later(await new TableDnsServer({ 'orders.test': ['127.0.0.2', '127.0.0.1'] }).start());
    const run = await diagnoseJson([`dns://127.0.0.1:${dns.port}/orders.test:${server.port}`]);
    const tcp = run.report.steps.filter((s) => s.name === 'tcp');
    expect(tcp.map((s) => s.status)).toEqual(['warn', 'ok']);
    expect(tcp[0]?.detail).toMatch(/^connection_refused: 127\.0\.0\.2:/);
    if (tcp[0]) expectDocs(tcp[0], 'connection_refused');
    expect(run.step('dns').status).toBe('ok');
    expect(run.step('health-check').status).toBe('ok');
    expect(run.code).toBe(0);
  });

  it('TLS with the right CA: version, ALPN h2, chain, SAN; a certificate for one more day warns', async () => {
    const m = material();
    const server = later(
      await new DiagnoseGrpcServer({
        health: { '': 'SERVING' },
        credentials: serverCredentials(m.server),
      }).start(),
    );
    const run = await diagnoseJson([`localhost:${server.port}`, '--tls', '--tls-ca-cert', m.caFile]);
    expect(run.code).toBe(0);
    // The test certificates are valid for one day: closer to expiry than 14 days.
    expect(run.step('tls').status).toBe('warn');
    expect(run.step('tls').detail).toMatch(
      /^the certificate expires in (0\.9|1\.0) days; TLSv1\.[23], ALPN h2, chain CN=localhost ← CN=ca, DNS:localhost, IP Address:127\.0\.0\.1, expires/,
    );
    expect(run.step('health-check').status).toBe('ok');
  });

  it('TLS with a wrong name: tls fails tls_error naming the name and the SAN, exit 2', async () => {
    const m = material();
    const server = later(
      await new DiagnoseGrpcServer({
        health: { '': 'SERVING' },
        credentials: serverCredentials(m.server),
      }).start(),
    );
    const run = await diagnoseJson([
      server.address,
      '--tls',
      '--tls-ca-cert',
      m.caFile,
      '--tls-server-name',
      'orders.wrong.test',
    ]);
    expect(run.code).toBe(2);
    const step = run.step('tls');
    expect(step.status).toBe('fail');
    expect(step.detail).toMatch(
      /^tls_error: the certificate does not name "orders\.wrong\.test" \(DNS:localhost/,
    );
    expect(step.fix).toMatch(/server_name/);
    expect(run.step('http2').status).toBe('skipped');
  });

  it('TLS from an unknown CA: tls fails tls_error, and --tls-no-verify turns it into a warning', async () => {
    const m = material();
    const server = later(
      await new DiagnoseGrpcServer({
        health: { '': 'SERVING' },
        credentials: serverCredentials(m.foreign),
      }).start(),
    );
    const strict = await diagnoseJson([`localhost:${server.port}`, '--tls', '--tls-ca-cert', m.caFile]);
    expect(strict.code).toBe(2);
    expect(strict.step('tls').status).toBe('fail');
    expectDocs(strict.step('tls'), 'tls_error');
    expect(strict.step('tls').detail).toMatch(/certificate not trusted/);
    const lax = await diagnoseJson([`localhost:${server.port}`, '--tls', '--tls-no-verify']);
    expect(lax.step('tls').status).toBe('warn');
    expect(lax.step('health-check').status).toBe('ok');
    expect(lax.code).toBe(0);
  });

  it("mTLS without a client certificate: the server's alert fails http2 with tls_error; with one, ok", async () => {
    const m = material();
    const server = later(
      await new DiagnoseGrpcServer({
        health: { '': 'SERVING' },
        credentials: serverCredentials(m.server, m.caPem),
      }).start(),
    );
    const tls = [`localhost:${server.port}`, '--tls', '--tls-ca-cert', m.caFile];
    const without = await diagnoseJson(tls);
    expect(without.code).toBe(2);
    const failedStep = without.report.steps.find((s) => s.status === 'fail');
    // TLS 1.3 sends the alert after the client finished its handshake: the first read sees it.
    expect(failedStep?.name).toMatch(/^(tls|http2)$/);
    expect(failedStep?.detail).toMatch(/^tls_error: .*certificate required/);
    const withCert = await diagnoseJson([
      ...tls,
      '--tls-client-cert',
      m.client.cert,
      '--tls-client-key',
      m.client.key,
    ]);
    expect(withCert.code).toBe(0);
    expect(withCert.step('health-check').status).toBe('ok');
  });

  it('an LB error page over HTTP/2 (502): health-check fails http_error, exit 3', async () => {
    const server = later(await new RawH2Server(answers.httpError(502)).start());
    const run = await diagnoseJson([server.address]);
    expect(run.code).toBe(3);
    expect(run.step('http2').status).toBe('ok');
    expect(run.step('health-check').status).toBe('fail');
    expectDocs(run.step('health-check'), 'http_error');
    expect(run.step('health-check').detail).toMatch(/^http_error: UNAVAILABLE: .*502/);
    expect(run.step('reflection').status).toBe('skipped');
  });

  it('an HTTP/1.1-only TLS server (ALPN downgrade): tls fails naming ALPN http/1.1, exit 2', async () => {
    const m = material();
    const server = later(await new Http1OnlyTlsServer(m.server).start());
    const run = await diagnoseJson([`localhost:${server.port}`, '--tls', '--tls-ca-cert', m.caFile]);
    expect(run.code).toBe(2);
    const step = run.step('tls');
    expect(step.status).toBe('fail');
    expect(step.detail).toMatch(/^protocol_error: the server negotiated ALPN "http\/1\.1", not h2/);
    expect(step.fix).toMatch(/HTTP\/2/);
  });

  it('a plaintext client on a TLS port: http2 fails tls_error and says the port speaks TLS, exit 2', async () => {
    const m = material();
    const server = later(
      await new DiagnoseGrpcServer({
        health: { '': 'SERVING' },
        credentials: serverCredentials(m.server),
      }).start(),
    );
    const run = await diagnoseJson([server.address]);
    expect(run.code).toBe(2);
    const step = run.step('http2');
    expect(step.status).toBe('fail');
    expect(step.detail).toMatch(/^tls_error: .*\(the port speaks TLS\)$/);
    expect(step.fix).toMatch(/--tls/);
  });

  it('a plain HTTP/1.1 server: http2 fails protocol_error, exit 2', async () => {
    const server = later(await new Http1Target().start());
    const run = await diagnoseJson([server.address]);
    expect(run.code).toBe(2);
    expect(run.step('http2').status).toBe('fail');
    expectDocs(run.step('http2'), 'protocol_error');
    expect(run.step('http2').detail).toMatch(/^protocol_error: /);
  });

  it('a TLS client on a plaintext server: tls fails tls_error, exit 2', async () => {
    const server = later(await new DiagnoseGrpcServer({ health: { '': 'SERVING' } }).start());
    const run = await diagnoseJson([server.address, '--tls', '--tls-no-verify']);
    expect(run.code).toBe(2);
    expect(run.step('tls').status).toBe('fail');
    expectDocs(run.step('tls'), 'tls_error');
    expect(run.step('tls').detail).toMatch(/^tls_error: handshake with 127\.0\.0\.1:\d+ failed/);
  });

  it('a peer that closes, resets or says nothing after accept: the first failing step has the matching reason, exit 2', async () => {
    const server = later(await new DiagnoseGrpcServer({ health: { '': 'SERVING' } }).start());
    const proxy = new TcpProxy(server.port);
    await proxy.start();
    cleanup.push(() => proxy.close());
    // A reset right at accept may reach the TCP connect itself (ECONNRESET) or the first HTTP/2 read.
    for (const [mode, reason, layers] of [
      ['close', 'connection_closed', ['http2']],
      ['reset', 'connection_reset', ['tcp', 'http2']],
      ['silent', 'connect_timeout', ['http2']],
    ] as const) {
      proxy.mode = mode;
      const run = await diagnoseJson([proxy.address, '--connect-timeout', '1s']);
      expect(run.code, mode).toBe(2);
      const step = run.report.steps.find((s) => s.status === 'fail');
      if (!step) throw new Error(`${mode}: no failed step`);
      expect(layers, mode).toContain(step.name);
      expect(step.detail, mode).toMatch(new RegExp(`^${reason}: `));
      expectDocs(step, reason);
    }
  });

  it('health NOT_SERVING, or an unknown service: health-check fails not_serving, exit 4', async () => {
    const server = later(
      await new DiagnoseGrpcServer({ health: { '': 'SERVING', 'shop.Orders': 'NOT_SERVING' } }).start(),
    );
    const run = await diagnoseJson([server.address, '--service', 'shop.Orders']);
    expect(run.code).toBe(4);
    expect(run.step('health-check').status).toBe('fail');
    expectDocs(run.step('health-check'), 'not_serving');
    expect(run.step('health-check').detail).toBe('not_serving: "shop.Orders" answered NOT_SERVING');
    expect(run.step('health-list').detail).toContain('shop.Orders=NOT_SERVING');
    const unknown = await diagnoseJson([server.address, '--service', 'shop.Nope']);
    expect(unknown.code).toBe(4);
    expect(unknown.step('health-check').detail).toMatch(
      /^not_serving: "shop\.Nope" is unknown to the server/,
    );
  });

  it('no health service: health-check fails unimplemented, Watch and List say so, exit 3', async () => {
    const server = later(await new DiagnoseGrpcServer({ reflection: true }).start());
    const run = await diagnoseJson([server.address]);
    expect(run.code).toBe(3);
    expect(run.step('health-check').status).toBe('fail');
    expect(run.step('health-check').detail).toMatch(/^unimplemented: UNIMPLEMENTED/);
    expect(run.step('health-watch').status).toBe('warn');
    expect(run.step('health-list').status).toBe('skipped');
    expect(run.step('reflection').status).toBe('ok');
  });

  it('Watch unimplemented (check-only server): health-watch warns, exit 0', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' }, checkOnly: true }).start();
    cleanup.push(() => target.stop());
    const run = await diagnoseJson([target.address]);
    expect(run.code).toBe(0);
    expect(run.step('health-watch').status).toBe('warn');
    expect(run.step('health-watch').detail).toMatch(/^not implemented/);
    expect(run.step('reflection').status).toBe('warn');
  });
});

describe('grpc-pulse diagnose: the command', () => {
  it('prints the table with a summary naming the first failing layer, exit 2, as a process', async () => {
    const port = await deadPort();
    const result = await runCli(['diagnose', `127.0.0.1:${port}`]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^grpc-pulse diagnose 127\.0\.0\.1:\d+\n/);
    expect(result.stdout).toMatch(/\n {2}tcp +fail +[\d.]+ ms +connection_refused: /);
    expect(result.stdout).toMatch(/\n +cause: nothing listens/);
    expect(result.stdout).toMatch(/\nsummary: FAIL at tcp: connection_refused: .*\(exit 2\)\n$/);
  });

  it('bad arguments: exit 1 with the usage', async () => {
    for (const args of [
      [],
      ['no-port'],
      ['x:1', '--idle-test', 'soon'],
      ['x:1', '--tls-no-verify'],
      ['x:1', 'y:2'],
    ]) {
      const result = await runCli(['diagnose', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/^error: .*\n\nUsage: grpc-pulse diagnose ADDRESS/);
    }
  });
});
