// The daemon keeps the fact `diagnose --idle-test` measures: grpc_probe_connection_duration_seconds,
// the age of each connection when it ended, by disconnect reason. A path that drops idle connections
// after 1.5 s puts every observation into the bucket above 1.5 s.

import { afterEach, describe, expect, it } from 'vitest';
import { IdleClosingProxy } from './harness/diagnose-idle-proxy.js';
import { DiagnoseGrpcServer } from './harness/diagnose-servers.js';
import { sampleValue } from './harness/prom-text.js';
import { RunningApp, testConfig } from './harness/running-app.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const METRIC = 'grpc_probe_connection_duration_seconds';

describe('grpc_probe_connection_duration_seconds', () => {
  it('an intermediary that drops idle connections after 1.5 s: every age lands in the (1, 5] bucket', async () => {
    const server = await new DiagnoseGrpcServer({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => server.stop());
    const proxy = await new IdleClosingProxy(server.port, 1500, 'close').start();
    cleanup.push(() => proxy.close());
    const app = await new RunningApp(testConfig(`  - name: x\n    address: "${proxy.address}"\n`)).start();
    cleanup.push(() => app.close());
    const labels = { target: 'x', reason: 'connection_closed' };
    // Before any disconnect there is no series: cells appear with their reason.
    expect(await app.metric(`${METRIC}_count`, labels)).toBeUndefined();
    await app.waitForMetricAtLeast(`${METRIC}_count`, labels, 2, 15_000);
    const count = (await app.metric(`${METRIC}_count`, labels)) ?? 0;
    expect(await app.metric(`${METRIC}_bucket`, { ...labels, le: '1' })).toBe(0);
    // One scrape for the comparisons: counts only grow between scrapes.
    const text = await app.metricsText();
    const read = (name: string, le?: string) =>
      sampleValue(text, `${METRIC}_${name}`, le === undefined ? labels : { ...labels, le }) ?? Number.NaN;
    const seen = read('count');
    expect(seen).toBeGreaterThanOrEqual(count);
    expect(read('bucket', '5')).toBe(seen);
    expect(read('bucket', '+Inf')).toBe(seen);
    const sum = read('sum');
    // Each connection lived about as long as the proxy's idle cutoff.
    expect(sum / seen).toBeGreaterThanOrEqual(1.4);
    expect(sum / seen).toBeLessThan(5);
    expect(proxy.droppedAfterMs.length).toBeGreaterThanOrEqual(2);
  });
});
