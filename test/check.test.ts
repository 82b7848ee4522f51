// `grpc-pulse check` as a child process against real servers: grpc_health_probe's flag forms, its exit
// codes and its messages on stderr (grpc-ecosystem/grpc-health-probe main.go), each failure with the
// reason the daemon's classifier gives.

import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { DEBIAN_PYTHON } from './harness/child-server.js';
import { runCli } from './harness/cli-process.js';
import { grpcFrame, SERVING_BYTES, TcpPeer } from './harness/fault-servers.js';
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

async function closedPort(): Promise<number> {
  const peer = await new TcpPeer(() => {}).start();
  const port = peer.port;
  await peer.close();
  return port;
}

describe('grpc-pulse check takes grpc_health_probe flags in every form', () => {
  it.each([
    [['-addr=ADDR']],
    [['-addr', 'ADDR']],
    [['--addr=ADDR']],
    [['--addr', 'ADDR', '-service=', '-connect-timeout=2s', '--rpc-timeout', '1500ms', '-v']],
  ])('%j → 0 SERVING, "status: SERVING" on stderr', async (args) => {
    const t = await target({ '': 'SERVING' });
    const result = await runCli(['check', ...args.map((a) => a.replace('ADDR', t.address))]);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n').at(-1)).toBe('status: SERVING');
    expect(result.stdout).toBe('');
  });

  it('-addr=:PORT dials the local host, as grpc_health_probe does', async () => {
    const t = await target({ '': 'SERVING' });
    const result = await runCli(['check', `-addr=:${t.port}`]);
    expect(result).toMatchObject({ code: 0, stderr: 'status: SERVING\n' });
  });

  it('-version prints the version and exits 0', async () => {
    const result = await runCli(['check', '-version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^grpc-pulse check \d+\.\d+\.\d+/);
  });

  it('-gzip compresses the request (grpc-encoding: gzip)', async () => {
    const seen: (string | string[] | undefined)[] = [];
    const server = await new RawH2Server((stream, headers) => {
      seen.push(headers['grpc-encoding']);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcFrame(SERVING_BYTES));
    }).start();
    cleanup.push(() => server.close());
    expect((await runCli(['check', `-addr=${server.address}`, '-gzip'])).code).toBe(0);
    expect((await runCli(['check', `-addr=${server.address}`])).code).toBe(0);
    expect(seen).toEqual(['gzip', undefined]);
  });

  it('sends -rpc-header metadata and -user-agent', async () => {
    const seen: Record<string, unknown>[] = [];
    const server = await new RawH2Server((stream, headers) => {
      seen.push(headers);
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcFrame(SERVING_BYTES));
    }).start();
    cleanup.push(() => server.close());
    const result = await runCli([
      'check',
      `-addr=${server.address}`,
      '-rpc-header',
      'authorization: Bearer x',
      '-rpc-header=x-team: pay',
      '-user-agent=kubelet-exec',
    ]);
    expect(result.code).toBe(0);
    expect(seen[0]).toMatchObject({ authorization: 'Bearer x', 'x-team': 'pay' });
    expect(String(seen[0]?.['user-agent'])).toMatch(/^kubelet-exec /);
  });
});

describe('grpc-pulse check exit codes', () => {
  it('1: bad arguments, with grpc_health_probe messages', async () => {
    const cases: [string[], string][] = [
      [[], 'error: -addr not specified'],
      [['-addr=x:1', '-rpc-timeout=soon'], 'invalid value "soon" for flag -rpc-timeout: parse error'],
      [
        ['-addr=x:1', '-connect-timeout=0s'],
        'error: -connect-timeout must be greater than zero (specified: 0s)',
      ],
      [['-addr=x:1', '-bogus'], 'flag provided but not defined: -bogus'],
      [['-addr=x:1', '-tls-no-verify'], 'error: specified -tls-no-verify without specifying -tls'],
      [
        ['-addr=x:1', '-tls', '-tls-client-cert=c.pem'],
        'error: specified -tls-client-cert without specifying -tls-client-key',
      ],
      [['-addr=x:1', '-rpc-header=nocolon'], `invalid value "nocolon" for flag -rpc-header`],
      [['-addr=x:1', '-spiffe'], 'error: -spiffe is not supported by grpc-pulse check'],
      [['-addr=x:1', '-alts'], 'error: -alts is not supported by grpc-pulse check'],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['check', ...args]);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.split('\n')[0], args.join(' ')).toContain(message);
    }
  });

  it('2: connection failure, with the classified reason', async () => {
    const refused = await runCli(['check', `-addr=127.0.0.1:${await closedPort()}`]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(
      /^error: failed to connect service at "127\.0\.0\.1:\d+": .*\(reason: connection_refused\)\n$/,
    );

    const silent = await new TcpPeer(() => {}).start();
    cleanup.push(() => silent.close());
    const timeout = await runCli(['check', `-addr=${silent.address}`, '-connect-timeout=300ms']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toBe(
      `timeout: failed to connect service "${silent.address}" within 300ms (reason: connect_timeout)\n`,
    );
  });

  it('2, and it exits right after the verdict when the accept queue is full', async () => {
    // A listener that never accepts, its queue filled: further SYNs go unanswered and the kernel
    // would keep retrying them for minutes (test/fixtures/python/full_queue_listener.py).
    const listener = spawn(DEBIAN_PYTHON, ['-u', 'test/fixtures/python/full_queue_listener.py'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const exited = new Promise<void>((resolve) => listener.once('exit', () => resolve()));
    cleanup.push(async () => {
      listener.kill('SIGKILL');
      await exited;
    });
    const port = await new Promise<string>((resolve, reject) => {
      // The line may arrive in pieces: match on everything read so far.
      let output = '';
      listener.stdout?.on('data', (chunk) => {
        output += String(chunk);
        const match = /PORT (\d+)\n/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      void exited.then(() => reject(new Error('listener exited')));
      setTimeout(() => reject(new Error('the listener did not report its port within 30 s')), 30_000).unref();
    });
    const started = performance.now();
    const result = await runCli(['check', `-addr=127.0.0.1:${port}`, '-connect-timeout=500ms'], 20_000);
    const elapsedMs = performance.now() - started;
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('(reason: connect_timeout)');
    // Node's start-up plus the 500 ms budget; far from the minutes a pending SYN would hold it.
    expect(elapsedMs).toBeLessThan(15_000);
  }, 90_000);

  it('3: RPC failure: no health service, and NOT_FOUND for an unknown service', async () => {
    const none = await target();
    const result = await runCli(['check', `-addr=${none.address}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(
      /^error: this server does not implement the grpc health protocol \(grpc\.health\.v1\.Health\): .*\(reason: unimplemented\)\n$/,
    );
    const t = await target({ '': 'SERVING' });
    const unknown = await runCli(['check', `-addr=${t.address}`, '-service=no.Such']);
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toMatch(
      /^error: health rpc failed: rpc error: code = NotFound desc = .*\(reason: not_serving\)\n$/,
    );
  });

  it('3: a server status that only sounds like a transport failure is rpc_error (provenance)', async () => {
    const server = await new RawH2Server((stream) =>
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': '14',
          'grpc-message': 'dial tcp 10.0.0.7:5432: connect: ECONNREFUSED',
        },
        { endStream: true },
      ),
    ).start();
    cleanup.push(() => server.close());
    const result = await runCli(['check', `-addr=${server.address}`]);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      'error: health rpc failed: rpc error: code = Unavailable desc = dial tcp 10.0.0.7:5432: connect: ECONNREFUSED (reason: rpc_error)\n',
    );
  });

  it('4: answered but not SERVING', async () => {
    const t = await target({ '': 'NOT_SERVING' });
    const notServing = await runCli(['check', `-addr=${t.address}`]);
    expect(notServing.code).toBe(4);
    expect(notServing.stderr).toBe('service unhealthy (responded with "NOT_SERVING")\n');
  });
});

describe('grpc-pulse check over TLS', () => {
  it('checks over TLS and mTLS; a missing client certificate is a tls_error connection failure', async () => {
    const tls = makeTlsMaterial();
    const server = await new GrpcTarget({
      health: { '': 'SERVING' },
      credentials: serverCredentials(tls.server, tls.caPem),
    }).start();
    cleanup.push(() => server.stop());
    const base = [
      'check',
      `-addr=127.0.0.1:${server.port}`,
      '-tls',
      `-tls-ca-cert=${tls.caFile}`,
      '-tls-server-name',
      'localhost',
    ];
    const mtls = await runCli([
      ...base,
      '-tls-client-cert',
      tls.client.cert,
      '-tls-client-key',
      tls.client.key,
    ]);
    expect(mtls.code).toBe(0);
    const noClientCert = await runCli(base);
    expect(noClientCert.code).toBe(2);
    expect(noClientCert.stderr).toMatch(/\(reason: tls_error\)\n$/);
  });

  it('a plaintext check against a TLS server is tls_error, as the daemon says (one door)', async () => {
    const tls = makeTlsMaterial();
    const server = await new GrpcTarget({
      health: { '': 'SERVING' },
      credentials: serverCredentials(tls.server),
    }).start();
    cleanup.push(() => server.stop());
    const result = await runCli(['check', `-addr=${server.address}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\(reason: tls_error\)\n$/);
  });
});
