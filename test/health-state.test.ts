// Health state that must not go stale or stick: a Check without an answer is UNKNOWN, and a probe that
// fell back to Check (Watch UNIMPLEMENTED) tries Watch again on the next connection.

import { afterEach, describe, expect, it } from 'vitest';
import { GrpcTarget } from './harness/grpc-target.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { freePort } from './harness/services.js';
import { waitFor } from './harness/wait-for.js';

const STATUS = 'grpc_probe_health_status';
const WATCH_UP = 'grpc_probe_health_watch_up';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function app(yaml: string): Promise<RunningApp> {
  const running = await new RunningApp(testConfig(yaml)).start();
  cleanup.push(() => running.close());
  return running;
}

describe('health status without an answer', () => {
  it('Check mode: SERVING, then the server goes away: UNKNOWN, not a stale SERVING', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    const running = await app(
      `  - name: x\n    address: "${target.address}"\n    interval: 1s\n    timeout: 500ms\n    health: [ { service: "", mode: check } ]\n`,
    );
    const labels = { target: 'x', health_service: '' };
    await running.waitForMetric(STATUS, { ...labels, status: 'SERVING' }, 1, 8000);
    await target.stop();
    await running.waitForMetric(STATUS, { ...labels, status: 'UNKNOWN' }, 1, 8000);
    await running.waitForMetric(STATUS, { ...labels, status: 'SERVING' }, 0, 1000);
  });
});

describe('Watch after a fallback to Check', () => {
  it('is tried again on a new connection (an old server replaced by one that serves Watch)', async () => {
    const old = await new GrpcTarget({ health: { '': 'SERVING' }, checkOnly: true }).start();
    cleanup.push(() => old.stop());
    const running = await app(
      `  - name: x\n    address: "${old.address}"\n    interval: 1s\n    timeout: 500ms\n    health: [ { service: "" } ]\n`,
    );
    const labels = { target: 'x', health_service: '' };
    await running.waitForMetric(STATUS, { ...labels, status: 'SERVING' }, 1, 8000);
    await waitFor(
      () => running.logs.some((l) => l.includes('falling back to Check')),
      (seen) => seen,
      { timeoutMs: 8000, what: 'the fallback to Check' },
    );
    // The rollout: the same address now answers with a server that implements Watch.
    await old.stop();
    const next = await new GrpcTarget({ health: { '': 'SERVING' }, port: old.port }).start();
    cleanup.push(() => next.stop());
    await running.waitForMetric(WATCH_UP, labels, 1, 15_000);
    next.setStatus('', 'NOT_SERVING');
    await running.waitForMetric(STATUS, { ...labels, status: 'NOT_SERVING' }, 1, 4000);
  });
});

describe('transition logs', () => {
  it('logs each health change once at info, and a failing probe once until it recovers', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    const running = await app(
      `  - name: x\n    address: "${target.address}"\n    interval: 1s\n    timeout: 500ms\n    health: [ { service: "", mode: check } ]\n`,
    );
    const labels = { target: 'x', health_service: '' };
    const probe = { target: 'x', probe: 'health' };
    await running.waitForMetric(STATUS, { ...labels, status: 'SERVING' }, 1, 8000);
    target.setStatus('', 'NOT_SERVING');
    await running.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { ...probe, reason: 'not_serving' },
      3,
      10_000,
    );
    target.setStatus('', 'SERVING');
    await running.waitForMetric(STATUS, { ...labels, status: 'SERVING' }, 1, 8000);
    await running.waitForMetricAtLeast('grpc_probe_handled_total', { ...probe, grpc_code: 'OK' }, 3, 8000);
    const lines = running.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.target === 'x');
    const changes = lines.filter((l) => l.msg === 'health status changed');
    expect(changes.map((l) => [l.level, l.service, l.from, l.to])).toEqual([
      [30, '', 'SERVING', 'NOT_SERVING'],
      [30, '', 'NOT_SERVING', 'SERVING'],
    ]);
    expect(lines.filter((l) => l.msg === 'probe failing').map((l) => [l.level, l.probe, l.reason])).toEqual([
      [40, 'health', 'not_serving'],
    ]);
    const recovered = lines.filter((l) => l.msg === 'probe recovered');
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.failedAttempts).toBeGreaterThanOrEqual(3);
  });
  it('logs no health change for a target that never answers (UNKNOWN stays UNKNOWN)', async () => {
    const port = await freePort();
    const running = await app(
      `  - name: y\n    address: "127.0.0.1:${port}"\n    interval: 1s\n    timeout: 500ms\n    health: [ { service: "", mode: check } ]\n`,
    );
    await running.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { target: 'y', probe: 'health', reason: 'connection_refused' },
      2,
      10_000,
    );
    const lines = running.logs
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.target === 'y');
    expect(lines.filter((l) => l.msg === 'health status changed')).toEqual([]);
    expect(lines.filter((l) => l.msg === 'probe failing')).toHaveLength(1);
  });
});
