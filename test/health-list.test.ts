// Health/List discovery (`health: [{ discover: list }]`, gRFC A90) against real grpc-js servers: every
// listed service is watched with the same series as a configured one; services added and removed at
// run time appear in and disappear from /metrics; a new connection lists again at once; a server
// without List is warned about and watched as a whole.

import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { ListHealthTarget } from './harness/list-health-target.js';
import { parseSamples } from './harness/prom-text.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function server(...args: ConstructorParameters<typeof ListHealthTarget>): Promise<ListHealthTarget> {
  const target = await new ListHealthTarget(...args).start();
  cleanup.push(() => target.stop());
  return target;
}

async function app(
  address: string,
  health: string,
  timing = 'timeout: 500ms\n    interval: 1s',
): Promise<RunningApp> {
  const running = await new RunningApp(
    testConfig(`  - name: api\n    address: "${address}"\n    ${timing}\n    health:\n${health}`),
  ).start();
  cleanup.push(() => running.close());
  return running;
}

const discover = '      - discover: list\n';
const status = (service: string, value: string) => ({
  target: 'api',
  health_service: service,
  status: value,
});

/** The health services that have series in /metrics, sorted. */
async function servicesInMetrics(running: RunningApp): Promise<string[]> {
  const names = parseSamples(await running.metricsText())
    .filter((s) => s.name === 'grpc_probe_health_status' && s.labels.target === 'api')
    .map((s) => s.labels.health_service ?? '');
  return [...new Set(names)].sort();
}

describe('discover: list', () => {
  it('watches every listed service; services added and removed at run time come and go in /metrics', async () => {
    const target = await server({
      '': 'SERVING',
      'orders.v1.Orders': 'SERVING',
      'pay.v1.Pay': 'NOT_SERVING',
    });
    const running = await app(target.address, discover);
    await running.waitForMetric('grpc_probe_health_status', status('orders.v1.Orders', 'SERVING'), 1, 10_000);
    await running.waitForMetric('grpc_probe_health_status', status('pay.v1.Pay', 'NOT_SERVING'), 1, 10_000);
    await running.waitForMetric('grpc_probe_health_status', status('', 'SERVING'), 1, 10_000);
    // The same series as a configured service: success, Watch up, the probe label health:<service>.
    await running.waitForMetric('grpc_probe_success', { target: 'api', probe: 'health:orders.v1.Orders' }, 1);
    expect(await running.metric('grpc_probe_success', { target: 'api', probe: 'health:pay.v1.Pay' })).toBe(0);
    expect(
      await running.metric('grpc_probe_health_watch_up', {
        target: 'api',
        health_service: 'orders.v1.Orders',
      }),
    ).toBe(1);
    expect(await running.metric('grpc_probe_success', { target: 'api', probe: 'health_list' })).toBe(1);

    target.setStatus('stock.v1.Stock', 'SERVING');
    await running.waitForMetric('grpc_probe_health_status', status('stock.v1.Stock', 'SERVING'), 1, 10_000);
    target.remove('pay.v1.Pay');
    await waitFor(
      () => servicesInMetrics(running),
      (s) => !s.includes('pay.v1.Pay'),
      {
        timeoutMs: 10_000,
        what: 'the removed service to leave /metrics',
      },
    );
    const text = await running.metricsText();
    expect(text).not.toContain('pay.v1.Pay');
    expect(await servicesInMetrics(running)).toEqual(['', 'orders.v1.Orders', 'stock.v1.Stock']);
    // A watched service that changes status is seen through its Watch, without waiting for a List.
    target.setStatus('orders.v1.Orders', 'NOT_SERVING');
    await running.waitForMetric(
      'grpc_probe_health_status',
      status('orders.v1.Orders', 'NOT_SERVING'),
      1,
      5000,
    );
  });

  it('lists again on a new connection, before the interval', async () => {
    const target = await server({ '': 'SERVING' });
    const running = await app(target.address, discover, 'timeout: 1s\n    interval: 10m');
    await running.waitForMetric('grpc_probe_health_status', status('', 'SERVING'), 1, 10_000);
    const before = target.lists;
    target.setStatus('orders.v1.Orders', 'SERVING');
    await target.restart();
    await running.waitForMetric('grpc_probe_health_status', status('orders.v1.Orders', 'SERVING'), 1, 15_000);
    expect(target.lists).toBeGreaterThan(before);
  });

  it('keeps configured services as they are configured, beside the listed ones', async () => {
    const target = await server({ '': 'SERVING', 'orders.v1.Orders': 'SERVING' });
    const running = await app(
      target.address,
      `${discover}      - service: orders.v1.Orders\n        mode: check\n`,
    );
    await running.waitForMetric('grpc_probe_health_status', status('', 'SERVING'), 1, 10_000);
    await running.waitForMetric('grpc_probe_health_status', status('orders.v1.Orders', 'SERVING'), 1, 10_000);
    // Checked, as configured: no Watch series for it.
    expect(
      await running.metric('grpc_probe_health_watch_up', {
        target: 'api',
        health_service: 'orders.v1.Orders',
      }),
    ).toBeUndefined();
  });

  it('a server without List: a warning, and the configured services plus the server as a whole', async () => {
    const target = await server(
      { '': 'SERVING', 'orders.v1.Orders': 'SERVING', 'pay.v1.Pay': 'SERVING' },
      { list: false },
    );
    const running = await app(target.address, `${discover}      - service: orders.v1.Orders\n`);
    await running.waitForMetric('grpc_probe_health_status', status('', 'SERVING'), 1, 10_000);
    await running.waitForMetric('grpc_probe_health_status', status('orders.v1.Orders', 'SERVING'), 1, 10_000);
    await waitFor(
      () => running.logs.filter((l) => l.includes('health List is UNIMPLEMENTED')),
      (lines) => lines.length >= 1,
      { timeoutMs: 5000, what: 'the fallback warning' },
    );
    expect(
      JSON.parse(running.logs.find((l) => l.includes('health List is UNIMPLEMENTED')) ?? '{}').level,
    ).toBe(40);
    await running.waitForMetricAtLeast(
      'grpc_probe_attempts_total',
      { target: 'api', probe: 'health_list' },
      2,
      10_000,
    );
    // Warned once, not at every List; an unlisted service is not guessed at.
    expect(running.logs.filter((l) => l.includes('health List is UNIMPLEMENTED'))).toHaveLength(1);
    expect(await servicesInMetrics(running)).toEqual(['', 'orders.v1.Orders']);
    expect(
      await running.metric('grpc_probe_failures_total', {
        target: 'api',
        probe: 'health_list',
        reason: 'unimplemented',
      }),
    ).toBe(0);
  });

  it('watches at most 100 listed services (A90), warns once, and never turns a bad name into a label', async () => {
    const services: Record<string, 'SERVING'> = { 'bad name!': 'SERVING' };
    for (let i = 0; i < 105; i++) services[`svc.v1.S${String(i).padStart(3, '0')}`] = 'SERVING';
    const target = await server(services);
    const running = await app(target.address, discover, 'timeout: 2s\n    interval: 1m');
    await waitFor(
      () => servicesInMetrics(running),
      (s) => s.length === 100,
      {
        timeoutMs: 20_000,
        what: '100 watched services',
      },
    );
    const watched = await servicesInMetrics(running);
    expect(watched[0]).toBe('svc.v1.S000');
    expect(watched.at(-1)).toBe('svc.v1.S099');
    expect(running.logs.filter((l) => l.includes('named more than 100 services'))).toHaveLength(1);
    expect(running.logs.some((l) => l.includes('not service names'))).toBe(true);
    expect(await running.metricsText()).not.toContain('bad name!');
  });

  it('refuses discover with a service, a second discover, and an unknown discovery', () => {
    const load = (health: string) => () =>
      parseConfigText(
        testConfig(`  - name: api\n    address: "127.0.0.1:1"\n    health:\n${health}`),
        'h.yaml',
        {
          baseDir: process.cwd(),
          env: {},
        },
      );
    expect(load('      - { discover: list, service: a.A }\n')).toThrow(
      'h.yaml:7: targets[0].health[0]: discover: list takes no service or mode',
    );
    expect(load(`${discover}${discover}`)).toThrow(
      'h.yaml:8: targets[0].health[1].discover: discover: list is given twice',
    );
    expect(load('      - discover: dns\n')).toThrow(
      'h.yaml:7: targets[0].health[0].discover: must be one of "list"',
    );
  });
});
