// Health Watch and Check probes against real grpc-js servers: status flips, restarts, fallback to Check,
// servers without a health service, unknown services. Values are read from /metrics as Prometheus would.

import { afterEach, describe, expect, it } from 'vitest';
import { GrpcTarget } from './harness/grpc-target.js';
import { RunningApp, testConfig } from './harness/running-app.js';

const STATUS = 'grpc_probe_health_status';
const CHANGES = 'grpc_probe_health_changes_total';
const WATCH_UP = 'grpc_probe_health_watch_up';

const open: { close(): Promise<void> }[] = [];
async function track<T extends { close(): Promise<void> }>(value: T): Promise<T> {
  open.push(value);
  return value;
}
afterEach(async () => {
  for (const item of open.splice(0).reverse()) await item.close();
});

function serverClose(target: GrpcTarget) {
  return { close: () => target.stop() };
}

describe('health Watch', () => {
  it('pushes each setStatus() flip to /metrics and counts the transitions', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING', 'orders.v1.Orders': 'SERVING' } }).start();
    await track(serverClose(target));
    const app = await track(
      await new RunningApp(
        testConfig(`  - name: orders
    address: "${target.address}"
    health: [ { service: "" }, { service: orders.v1.Orders } ]
`),
      ).start(),
    );
    const orders = { target: 'orders', health_service: 'orders.v1.Orders' };
    await app.waitForMetric(STATUS, { ...orders, status: 'SERVING' }, 1);
    await app.waitForMetric(WATCH_UP, orders, 1);

    target.setStatus('orders.v1.Orders', 'NOT_SERVING');
    await app.waitForMetric(STATUS, { ...orders, status: 'NOT_SERVING' }, 1);
    expect(await app.metric(STATUS, { ...orders, status: 'SERVING' })).toBe(0);
    expect(
      await app.metric('grpc_probe_success', { target: 'orders', probe: 'health:orders.v1.Orders' }),
    ).toBe(0);
    expect(
      await app.metric('grpc_probe_failures_total', {
        target: 'orders',
        probe: 'health:orders.v1.Orders',
        reason: 'not_serving',
      }),
    ).toBe(1);

    target.setStatus('orders.v1.Orders', 'SERVING');
    await app.waitForMetric(STATUS, { ...orders, status: 'SERVING' }, 1);
    expect(await app.metric(CHANGES, { ...orders, status: 'NOT_SERVING' })).toBe(1);
    expect(await app.metric(CHANGES, { ...orders, status: 'SERVING' })).toBe(2);
    // The whole-server status was never touched.
    expect(await app.metric(CHANGES, { target: 'orders', health_service: '', status: 'NOT_SERVING' })).toBe(
      0,
    );
    // One stream, opened once, still open: a Watch does not poll.
    expect(
      await app.metric('grpc_probe_attempts_total', { target: 'orders', probe: 'health:orders.v1.Orders' }),
    ).toBe(1);
  });

  it('re-opens after the server restarts on the same port and counts the outage', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    await track(serverClose(target));
    const app = await track(
      await new RunningApp(testConfig(`  - name: api\n    address: "${target.address}"\n`)).start(),
    );
    const labels = { target: 'api', health_service: '' };
    await app.waitForMetric(WATCH_UP, labels, 1);

    await target.stop();
    await app.waitForMetric(WATCH_UP, labels, 0);
    await app.waitForMetric(STATUS, { ...labels, status: 'UNKNOWN' }, 1);
    // The verdict follows the status once the classifier has looked at the connection's end.
    await app.waitForMetric('grpc_probe_success', { target: 'api', probe: 'health' }, 0);

    await target.start();
    await app.waitForMetric(WATCH_UP, labels, 1, 10_000);
    await app.waitForMetric(STATUS, { ...labels, status: 'SERVING' }, 1);
    const text = await app.metricsText();
    const failures = text
      .split('\n')
      .filter((l) => l.startsWith('grpc_probe_failures_total{target="api",probe="health"'))
      .reduce((sum, l) => sum + Number(l.split(' ').at(-1)), 0);
    expect(failures).toBeGreaterThanOrEqual(1);
    expect(
      await app.metric('grpc_probe_failures_total', { target: 'api', probe: 'health', reason: 'unknown' }),
    ).toBe(0);
    expect(
      await app.metric('grpc_probe_attempts_total', { target: 'api', probe: 'health' }),
    ).toBeGreaterThanOrEqual(2);
  });

  it('reports SERVICE_UNKNOWN for a service the server does not know, as a status', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    await track(serverClose(target));
    const app = await track(
      await new RunningApp(
        testConfig(`  - name: api\n    address: "${target.address}"\n    health: [ { service: no.Such } ]\n`),
      ).start(),
    );
    const labels = { target: 'api', health_service: 'no.Such' };
    await app.waitForMetric(STATUS, { ...labels, status: 'SERVICE_UNKNOWN' }, 1);
    // The stream is healthy; only the answer is not SERVING.
    expect(await app.metric(WATCH_UP, labels)).toBe(1);
    expect(
      await app.metric('grpc_probe_failures_total', {
        target: 'api',
        probe: 'health:no.Such',
        reason: 'not_serving',
      }),
    ).toBe(1);
  });

  it('falls back to periodic Check where Watch is UNIMPLEMENTED', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' }, checkOnly: true }).start();
    await track(serverClose(target));
    const app = await track(
      await new RunningApp(
        testConfig(
          `  - name: legacy\n    address: "${target.address}"\n    interval: 1s\n    timeout: 500ms\n`,
        ),
      ).start(),
    );
    const labels = { target: 'legacy', health_service: '' };
    await app.waitForMetric(STATUS, { ...labels, status: 'SERVING' }, 1);
    await app.waitForMetric(
      'grpc_probe_handled_total',
      { target: 'legacy', probe: 'health', grpc_code: 'OK' },
      2,
    );
    // A checked service has no Watch stream, so no watch_up series to alert on.
    expect(await app.metric(WATCH_UP, labels)).toBeUndefined();
    expect(
      await app.metric('grpc_probe_failures_total', {
        target: 'legacy',
        probe: 'health',
        reason: 'unimplemented',
      }),
    ).toBe(0);
    expect(app.logs.some((l) => l.includes('falling back to Check'))).toBe(true);

    target.setStatus('', 'NOT_SERVING');
    await app.waitForMetric(STATUS, { ...labels, status: 'NOT_SERVING' }, 1, 4000);
  });

  it('counts a server without any health service as unimplemented', async () => {
    const target = await new GrpcTarget({}).start();
    await track(serverClose(target));
    const app = await track(
      await new RunningApp(
        testConfig(
          `  - name: bare\n    address: "${target.address}"\n    interval: 1s\n    timeout: 500ms\n`,
        ),
      ).start(),
    );
    await app.waitForMetric(
      'grpc_probe_failures_total',
      { target: 'bare', probe: 'health', reason: 'unimplemented' },
      1,
      4000,
    );
    expect(
      await app.metric('grpc_probe_handled_total', {
        target: 'bare',
        probe: 'health',
        grpc_code: 'Unimplemented',
      }),
    ).toBe(1);
    expect(await app.metric(STATUS, { target: 'bare', health_service: '', status: 'UNKNOWN' })).toBe(1);
  });
});

describe('health Check mode', () => {
  it('checks every interval with the timeout as deadline and reflects status changes', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    await track(serverClose(target));
    const app = await track(
      await new RunningApp(
        testConfig(
          `  - name: polled\n    address: "${target.address}"\n    interval: 1s\n    timeout: 500ms\n    health: [ { service: "", mode: check } ]\n`,
        ),
      ).start(),
    );
    await app.waitForMetric(
      'grpc_probe_handled_total',
      { target: 'polled', probe: 'health', grpc_code: 'OK' },
      2,
      4000,
    );
    target.setStatus('', 'NOT_SERVING');
    await app.waitForMetric(STATUS, { target: 'polled', health_service: '', status: 'NOT_SERVING' }, 1, 4000);
    expect(await app.metric('grpc_probe_success', { target: 'polled', probe: 'health' })).toBe(0);
  });
});

describe('startup grace', () => {
  it('does not count failures of a target that has not started yet, and counts them after', async () => {
    // Learn a free port, then leave it closed: the app beside the sidecar is still starting.
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    await target.stop();
    await track(serverClose(target));
    const app = await track(
      await new RunningApp(
        testConfig(
          `  - name: app\n    address: "${target.address}"\n    interval: 1s\n    timeout: 500ms\n    startup_grace: 30s\n    health: [ { service: "", mode: check } ]\n`,
        ),
      ).start(),
    );
    const attempts = { target: 'app', probe: 'health' };
    await app.waitForMetricAtLeast('grpc_probe_attempts_total', attempts, 2, 5000);
    expect(await app.metric('grpc_probe_failures_total', { ...attempts, reason: 'connection_refused' })).toBe(
      0,
    );

    await target.start();
    await app.waitForMetric('grpc_probe_success', attempts, 1, 5000);
    await target.stop();
    await app.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { ...attempts, reason: 'connection_refused' },
      1,
      5000,
    );
  });
});
