// `grpc-pulse check` as a child process against real servers, for every exit code of grpc_health_probe.

import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from './harness/cli-process.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { RawH2Server } from './harness/raw-h2-server.js';
import { makeTlsMaterial, serverCredentials } from './harness/tls-material.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function target(health?: Record<string, 'SERVING' | 'NOT_SERVING'>): Promise<GrpcTarget> {
  const t = await new GrpcTarget(health ? { health } : {}).start();
  cleanup.push(() => t.stop());
  return t;
}

describe('grpc-pulse check exit codes', () => {
  it('0: SERVING', async () => {
    const t = await target({ '': 'SERVING' });
    const result = await runCli(['check', '--addr', t.address]);
    expect(result).toMatchObject({ code: 0, stdout: 'status: SERVING\n' });
  });

  it('1: bad arguments', async () => {
    for (const args of [
      [],
      ['--addr', 'x:1', '--rpc-timeout', 'soon'],
      ['--addr', 'x:1', '--bogus'],
      ['--addr', 'x:1', '--tls-no-verify'],
    ]) {
      const result = await runCli(['check', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/^error: /);
    }
  });

  it('2: connection failure, with the classified reason', async () => {
    const refused = await runCli(['check', '--addr', '127.0.0.1:9']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: connection failure: connection_refused: /);

    const sockets = new Set<Socket>();
    const silent = createServer((s) => sockets.add(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => silent.close(() => r()));
    });
    const port = (silent.address() as { port: number }).port;
    const timeout = await runCli(['check', '--addr', `127.0.0.1:${port}`, '--connect-timeout', '300ms']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toMatch(/^error: connection failure: connect_timeout: /);
  });

  it('3: RPC failure (no health service)', async () => {
    const t = await target();
    const result = await runCli(['check', '--addr', t.address]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: health rpc failed: unimplemented: UNIMPLEMENTED: /);
  });

  it('4: NOT_SERVING, and SERVICE_UNKNOWN for an unknown service', async () => {
    const t = await target({ '': 'NOT_SERVING' });
    const notServing = await runCli(['check', '--addr', t.address]);
    expect(notServing.code).toBe(4);
    expect(notServing.stderr).toBe('service unhealthy (responded with "NOT_SERVING")\n');
    const unknown = await runCli(['check', '--addr', t.address, '--service', 'no.Such']);
    expect(unknown.code).toBe(4);
  });
});

describe('grpc-pulse check options', () => {
  it('sends --rpc-header metadata and --user-agent', async () => {
    const seen: Record<string, unknown>[] = [];
    const server = await new RawH2Server((stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
    }).start();
    cleanup.push(() => server.close());
    const result = await runCli([
      'check',
      '--addr',
      server.address,
      '--rpc-header',
      'authorization: Bearer x',
      '--rpc-header',
      'x-team: pay',
      '--user-agent',
      'kubelet-exec',
    ]);
    expect(result.code).toBe(0);
    expect(seen[0]).toMatchObject({ authorization: 'Bearer x', 'x-team': 'pay' });
    expect(String(seen[0]?.['user-agent'])).toMatch(/^kubelet-exec /);
  });

  it('checks over TLS and mTLS, and reports a TLS failure as a connection failure', async () => {
    const tls = makeTlsMaterial();
    const server = await new GrpcTarget({
      health: { '': 'SERVING' },
      credentials: serverCredentials(tls.server, tls.caPem),
    }).start();
    cleanup.push(() => server.stop());
    const port = server.port;

    const base = [
      'check',
      '--addr',
      `127.0.0.1:${port}`,
      '--tls',
      '--tls-ca-cert',
      tls.caFile,
      '--tls-server-name',
      'localhost',
    ];
    const mtls = await runCli([
      ...base,
      '--tls-client-cert',
      tls.client.cert,
      '--tls-client-key',
      tls.client.key,
    ]);
    expect(mtls.code).toBe(0);
    const noClientCert = await runCli(base);
    expect(noClientCert.code).toBe(2);
    expect(noClientCert.stderr).toMatch(/^error: connection failure: tls_error: /);
  });
});
