// The HTTP endpoints of a real App (real fastify via inject(), real probes against a real server).

import { afterEach, describe, expect, it } from 'vitest';
import { FAILURE_REASONS } from '../src/outcome/failure-reasons.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { parseSamples } from './harness/prom-text.js';
import { RunningApp, testConfig } from './harness/running-app.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function startPair(targetYaml = '') {
  const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  cleanup.push(() => target.stop());
  const app = new RunningApp(testConfig(`  - name: api\n    address: "${target.address}"\n${targetYaml}`));
  cleanup.push(() => app.close());
  return { target, app };
}

describe('endpoints', () => {
  it('is healthy at once but ready only after start', async () => {
    const { app } = await startPair();
    const server = app.app.server;
    expect((await server.inject('/-/healthy')).statusCode).toBe(200);
    expect((await server.inject('/-/ready')).statusCode).toBe(503);
    await app.start();
    expect((await server.inject('/-/ready')).statusCode).toBe(200);
  });

  it('serves every series of a configured probe from the start, zeroed', async () => {
    // A target that never answers: nothing has happened yet when we scrape.
    const app = new RunningApp(testConfig('  - name: silent\n    address: "127.0.0.1:9"\n'));
    cleanup.push(() => app.close());
    await app.start();
    const response = await app.app.server.inject('/metrics');
    expect(response.headers['content-type']).toContain('text/plain; version=0.0.4');
    const samples = parseSamples(response.body).filter((s) => s.labels.target === 'silent');
    const reasons = samples.filter((s) => s.name === 'grpc_probe_failures_total').map((s) => s.labels.reason);
    expect(reasons.sort()).toEqual([...FAILURE_REASONS].sort());
    for (const name of ['grpc_probe_attempts_total', 'grpc_probe_success', 'grpc_probe_health_watch_up']) {
      expect(samples.some((s) => s.name === name)).toBe(true);
    }
    const status = samples.filter((s) => s.name === 'grpc_probe_health_status');
    expect(Object.fromEntries(status.map((s) => [s.labels.status, s.value]))).toEqual({
      UNKNOWN: 1,
      SERVING: 0,
      NOT_SERVING: 0,
      SERVICE_UNKNOWN: 0,
    });
    const own = parseSamples(response.body);
    expect(own.find((s) => s.name === 'grpc_pulse_build_info')?.labels.nodejs_version).toBe(process.version);
    expect(own.find((s) => s.name === 'grpc_pulse_config_last_reload_successful')?.value).toBe(1);
    expect(own.some((s) => s.name === 'process_resident_memory_bytes')).toBe(true);
    // Forbidden label names (SPEC "Metrics"): Prometheus and its operator add these.
    const forbidden = ['job', 'instance', 'namespace', 'pod', 'container', 'service', 'endpoint'];
    for (const s of own) for (const label of forbidden) expect(s.labels).not.toHaveProperty(label);
  });

  it('shows targets, health and recent failures on / and /api/v1/targets', async () => {
    const { target, app } = await startPair(
      '    health: [ { service: "" }, { service: orders.v1.Orders } ]\n',
    );
    await app.start();
    await app.waitForMetric(
      'grpc_probe_health_status',
      { target: 'api', health_service: 'orders.v1.Orders', status: 'SERVICE_UNKNOWN' },
      1,
    );
    target.setStatus('', 'NOT_SERVING');
    await app.waitForMetric(
      'grpc_probe_health_status',
      { target: 'api', health_service: '', status: 'NOT_SERVING' },
      1,
    );

    const api = (await app.app.server.inject('/api/v1/targets')).json() as {
      targets: {
        name: string;
        address: string;
        health: Record<string, { status: string }>;
        recentFailures: { reason: string; probe: string }[];
      }[];
    };
    const [only] = api.targets;
    expect(only?.name).toBe('api');
    expect(only?.address).toBe(target.address);
    expect(only?.health['']?.status).toBe('NOT_SERVING');
    expect(only?.recentFailures.map((f) => `${f.probe} ${f.reason}`)).toContain('health not_serving');

    const page = await app.app.server.inject('/');
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('href="/metrics"');
    expect(page.body).toContain('NOT_SERVING');
    expect(page.body).toContain('orders.v1.Orders');
  });

  it('answers /metrics while a target is unreachable', async () => {
    const app = new RunningApp(testConfig('  - name: gone\n    address: "127.0.0.1:9"\n'));
    cleanup.push(() => app.close());
    await app.start();
    await app.waitForMetric(
      'grpc_probe_failures_total',
      { target: 'gone', probe: 'health', reason: 'connection_refused' },
      1,
    );
  });
});
