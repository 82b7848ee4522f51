// Connection lifecycle against real faults: every disconnect reason of SPEC "Disconnect reasons",
// channel states and connect attempts, the keepalive mismatch against a C-core server, the TLS
// certificate expiry, and a graceful drain that is not a probe failure.

import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { DISCONNECT_REASONS, type DisconnectReason } from '../src/outcome/disconnect-reasons.js';
import { ChildServer, DEBIAN_PYTHON, hasPythonGrpc } from './harness/child-server.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { needs } from './harness/needs.js';
import { sampleValue } from './harness/prom-text.js';
import { grpcAnswers, H2, RawH2Server } from './harness/raw-h2-server.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { makeTlsMaterial, serverCredentials } from './harness/tls-material.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const WATCH_UP = 'grpc_probe_health_watch_up';
const up = { target: 'x', health_service: '' };

async function watchApp(address: string, targetYaml = ''): Promise<RunningApp> {
  const app = await new RunningApp(
    testConfig(`  - name: x\n    address: "${address}"\n${targetYaml}`),
  ).start();
  cleanup.push(() => app.close());
  return app;
}

/** Waits for one disconnect of `reason` and requires that no other reason (above all `unknown`) appeared. */
async function expectDisconnect(app: RunningApp, reason: DisconnectReason, timeoutMs = 6000): Promise<void> {
  await app.waitForMetricAtLeast('grpc_probe_disconnects_total', { target: 'x', reason }, 1, timeoutMs);
  const all = await app.byLabel('grpc_probe_disconnects_total', 'x', 'reason');
  expect(Object.keys(all).sort()).toEqual([...DISCONNECT_REASONS].sort());
  expect(Object.entries(all).filter(([r, n]) => r !== reason && n > 0)).toEqual([]);
}

async function grpcTarget(): Promise<GrpcTarget> {
  const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  cleanup.push(() => target.stop());
  return target;
}

async function proxyTo(target: GrpcTarget): Promise<TcpProxy> {
  const proxy = await new TcpProxy(target.port).start();
  cleanup.push(() => proxy.close());
  return proxy;
}

describe('disconnect reasons', () => {
  it('connection_reset: the link is reset (TCP RST) mid-stream', async () => {
    const proxy = await proxyTo(await grpcTarget());
    const app = await watchApp(proxy.address);
    await app.waitForMetric(WATCH_UP, up, 1);
    proxy.resetAll();
    await expectDisconnect(app, 'connection_reset');
    expect(
      await app.metric('grpc_probe_failures_total', {
        target: 'x',
        probe: 'health',
        reason: 'connection_reset',
      }),
    ).toBe(1);
  });

  it('connection_closed: the link is closed (FIN) mid-stream, and the Watch comes back', async () => {
    const proxy = await proxyTo(await grpcTarget());
    const app = await watchApp(proxy.address);
    await app.waitForMetric(WATCH_UP, up, 1);
    proxy.closeAll();
    await expectDisconnect(app, 'connection_closed');
    await app.waitForMetric(WATCH_UP, up, 1, 5000);
    expect(proxy.accepted).toBe(2);
  });

  it('keepalive_timeout: a frozen link is detected by keepalive pings', async () => {
    const proxy = await proxyTo(await grpcTarget());
    const app = await watchApp(proxy.address, '    keepalive: { time: 200ms, timeout: 200ms }\n');
    await app.waitForMetric(WATCH_UP, up, 1);
    proxy.freeze();
    await expectDisconnect(app, 'keepalive_timeout');
    await app.waitForMetric(WATCH_UP, up, 0);
  });

  it('connection_closed: the server process is killed', async () => {
    const child = await ChildServer.start(process.execPath, ['test/fixtures/node/health-server.mjs']);
    cleanup.push(() => child.kill());
    const app = await watchApp(child.address);
    await app.waitForMetric(WATCH_UP, up, 1);
    await child.kill('SIGKILL');
    await expectDisconnect(app, 'connection_closed');
    await app.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { target: 'x', probe: 'health', reason: 'connection_refused' },
      1,
    );
  });

  it.each([
    ['goaway_error', H2.NGHTTP2_INTERNAL_ERROR, ''],
    ['goaway_too_many_pings', H2.NGHTTP2_ENHANCE_YOUR_CALM, 'too_many_pings'],
    ['goaway_no_error', H2.NGHTTP2_NO_ERROR, ''],
    ['idle', H2.NGHTTP2_NO_ERROR, 'max_idle'],
  ] as const)('%s: GOAWAY code %i data "%s" from a raw HTTP/2 server', async (reason, code, data) => {
    const server = await new RawH2Server(grpcAnswers.servingStream()).start();
    cleanup.push(() => server.close());
    const app = await watchApp(server.address);
    await app.waitForMetric(WATCH_UP, up, 1);
    server.goawayAll(code, data);
    await expectDisconnect(app, reason);
  });

  it('shutdown: grpc-pulse closes the channel itself', async () => {
    const target = await grpcTarget();
    const app = await watchApp(target.address);
    await app.waitForMetric(WATCH_UP, up, 1);
    await app.close();
    // The registry outlives the app: read what it recorded on the way out.
    const text = await app.app.metricsText();
    expect(sampleValue(text, 'grpc_probe_disconnects_total', { target: 'x', reason: 'shutdown' })).toBe(1);
    expect(sampleValue(text, 'grpc_probe_disconnects_total', { target: 'x', reason: 'unknown' })).toBe(0);
    // Streams we cancel on the way out are not failures of the target.
    const failures = text.split('\n').filter((l) => l.startsWith('grpc_probe_failures_total{target="x"'));
    expect(failures.every((l) => l.endsWith(' 0'))).toBe(true);
  });
});

describe('graceful drains are not failures', () => {
  it('goaway_no_error: max_connection_age drains the Watch, which moves to a new connection', async () => {
    const server = new Server({ 'grpc.max_connection_age_ms': 400, 'grpc.max_connection_age_grace_ms': 200 });
    new HealthImplementation({ '': 'SERVING' }).addToServer(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    cleanup.push(() => server.forceShutdown());
    const app = await watchApp(`127.0.0.1:${port}`);
    await app.waitForMetricAtLeast(
      'grpc_probe_disconnects_total',
      { target: 'x', reason: 'goaway_no_error' },
      2,
      8000,
    );
    await app.waitForMetric(WATCH_UP, up, 1);
    const failures = await app.byLabel('grpc_probe_failures_total', 'x', 'reason');
    expect(Object.values(failures).reduce((a, b) => a + b, 0)).toBe(0);
    expect(await app.metric('grpc_probe_health_changes_total', { ...up, status: 'UNKNOWN' })).toBe(0);
  });

  it('a server stopped with a Watch open drains it; only the failed re-connects count', async () => {
    const target = await grpcTarget();
    const app = await watchApp(target.address);
    await app.waitForMetric(WATCH_UP, up, 1);
    await target.stop();
    await expectDisconnect(app, 'goaway_no_error');
    await app.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { target: 'x', probe: 'health', reason: 'connection_refused' },
      1,
    );
    await app.waitForMetric(WATCH_UP, up, 0);
  });
});

describe('keepalive mismatch against a C-core server (python3-grpcio)', () => {
  it('counts goaway_too_many_pings and warns once, naming the target and keepalive time', async (context) => {
    needs(context, hasPythonGrpc(), `python3-grpcio for ${DEBIAN_PYTHON}`);
    const server = await ChildServer.start(DEBIAN_PYTHON, [
      'test/fixtures/python/health_server.py',
      '--max-ping-strikes',
      '1',
    ]);
    cleanup.push(() => server.kill());
    const app = await watchApp(server.address, '    keepalive: { time: 100ms, timeout: 1s }\n');
    await app.waitForMetric(WATCH_UP, up, 1);
    await expectDisconnect(app, 'goaway_too_many_pings', 10_000);
    const warnings = app.logs.filter((l) => l.includes('keepalive mismatch'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('target x');
    expect(warnings[0]).toContain('"keepaliveTime":"100ms"');
    expect(JSON.parse(warnings[0] as string).level).toBe(40);
  });

  it('idle: the C-core server closes an idle connection with GOAWAY max_idle', async (context) => {
    needs(context, hasPythonGrpc(), `python3-grpcio for ${DEBIAN_PYTHON}`);
    const server = await ChildServer.start(DEBIAN_PYTHON, [
      'test/fixtures/python/health_server.py',
      '--max-idle-ms',
      '300',
    ]);
    cleanup.push(() => server.kill());
    // Check mode with a long interval leaves the connection idle between checks.
    const app = await watchApp(
      server.address,
      '    interval: 5s\n    health: [ { service: "", mode: check } ]\n',
    );
    await app.waitForMetricAtLeast(
      'grpc_probe_handled_total',
      { target: 'x', probe: 'health', grpc_code: 'OK' },
      1,
    );
    await expectDisconnect(app, 'idle', 5000);
  });
});

describe('channel state and connection facts', () => {
  it('reports states one-hot, transitions and connect attempts', async () => {
    const target = await grpcTarget();
    const app = await watchApp(target.address);
    await app.waitForMetric('grpc_probe_channel_state', { target: 'x', state: 'READY' }, 1);
    const states = await app.byLabel('grpc_probe_channel_state', 'x', 'state');
    expect(states).toEqual({ IDLE: 0, CONNECTING: 0, READY: 1, TRANSIENT_FAILURE: 0, SHUTDOWN: 0 });
    expect(
      await app.metric('grpc_probe_channel_transitions_total', {
        target: 'x',
        from: 'CONNECTING',
        to: 'READY',
      }),
    ).toBe(1);
    expect(await app.metric('grpc_probe_connect_attempts_total', { target: 'x', result: 'success' })).toBe(1);
    const api = (await app.app.server.inject('/api/v1/targets')).json() as {
      targets: { channelState: string }[];
    };
    expect(api.targets[0]?.channelState).toBe('READY');
  });

  it('counts failed connects', async () => {
    const app = await watchApp('127.0.0.1:9');
    await app.waitForMetricAtLeast(
      'grpc_probe_connect_attempts_total',
      { target: 'x', result: 'failure' },
      1,
    );
    expect(await app.metric('grpc_probe_channel_state', { target: 'x', state: 'TRANSIENT_FAILURE' })).toBe(1);
  });

  it('exports the expiry of the certificate the server presented', async () => {
    const tls = makeTlsMaterial();
    const server = await new GrpcTarget({
      health: { '': 'SERVING' },
      credentials: serverCredentials(tls.server),
    }).start();
    cleanup.push(() => server.stop());
    const app = await watchApp(
      server.address,
      `    tls: { ca_file: "${tls.caFile}", server_name: localhost }\n`,
    );
    await app.waitForMetric(WATCH_UP, up, 1);
    const { X509Certificate } = await import('node:crypto');
    const expected = Date.parse(new X509Certificate(tls.server.certPem).validTo) / 1000;
    await app.waitForMetric('grpc_probe_tls_cert_expiry_timestamp_seconds', { target: 'x' }, expected);
  });

  it('shows disconnects with details in /api/v1/targets', async () => {
    const proxy = await proxyTo(await grpcTarget());
    const app = await watchApp(proxy.address);
    await app.waitForMetric(WATCH_UP, up, 1);
    proxy.resetAll();
    await expectDisconnect(app, 'connection_reset');
    const api = (await app.app.server.inject('/api/v1/targets')).json() as {
      targets: {
        recentDisconnects: { reason: string; details: string }[];
        recentFailures: { details: string }[];
      }[];
    };
    expect(api.targets[0]?.recentDisconnects[0]).toMatchObject({
      reason: 'connection_reset',
      details: expect.stringContaining('ECONNRESET'),
    });
    expect(api.targets[0]?.recentFailures[0]?.details).toContain('ECONNRESET');
  });
});

describe('connect attempts across an outage', () => {
  it('counts the reconnect after an outage as a successful connect', async () => {
    const target = await grpcTarget();
    const app = await watchApp(target.address);
    await app.waitForMetric('grpc_probe_connect_attempts_total', { target: 'x', result: 'success' }, 1);
    await target.stop();
    await app.waitForMetricAtLeast(
      'grpc_probe_connect_attempts_total',
      { target: 'x', result: 'failure' },
      1,
    );
    await target.start();
    await app.waitForMetric(
      'grpc_probe_connect_attempts_total',
      { target: 'x', result: 'success' },
      2,
      10_000,
    );
    await app.waitForMetric(WATCH_UP, up, 1);
  });
});
