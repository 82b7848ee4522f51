// Health state that must not go stale or stick: a Check without an answer is UNKNOWN, and a probe that
// fell back to Check (Watch UNIMPLEMENTED) tries Watch again on the next connection.

import { afterEach, describe, it } from 'vitest';
import { GrpcTarget } from './harness/grpc-target.js';
import { RunningApp, testConfig } from './harness/running-app.js';
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
