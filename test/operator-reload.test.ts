// Transactional reconcile: a target that grpc-js refuses to build (here metadata that never went
// through validation, as a hole in validation would let through) fails the whole apply before any
// running target is stopped; the running set, its channels and its series stay exactly as they were.

import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_DURATION_MS } from '../src/config/duration.js';
import { parseConfigText } from '../src/config/load.js';
import { redactError } from '../src/config/redact.js';
import type { TargetConfig } from '../src/config/schema.js';
import { Secret } from '../src/config/secret.js';
import { createLogger } from '../src/log.js';
import { ConnectionRecorder } from '../src/metrics/connection-recorder.js';
import { MetricTable } from '../src/metrics/metric-table.js';
import { ProbeRecorder } from '../src/metrics/probe-recorder.js';
import { PeriodicTask } from '../src/probes/scheduler.js';
import { StatusStore } from '../src/status/status-store.js';
import { TARGET_SINK_METHODS, type TargetSink } from '../src/targets/sink.js';
import { TargetPrepareError, TargetSet } from '../src/targets/target-set.js';
import { MAX_TIMER_MS, sleep } from '../src/util/abortable-sleep.js';
import { fanOut } from '../src/util/fan-out.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { sampleValue } from './harness/prom-text.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function targetsOf(yaml: string): TargetConfig[] {
  return [...parseConfigText(yaml, 't.yaml', { baseDir: '.', env: {} }).targets];
}

describe('TargetSet.apply is all or nothing', () => {
  it('leaves the running set untouched when a new or changed target cannot be built', async () => {
    const server = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => server.stop());
    const table = new MetricTable();
    const status = new StatusStore();
    const sink = fanOut<TargetSink>(
      [new ProbeRecorder(table), new ConnectionRecorder(table), status],
      TARGET_SINK_METHODS,
    );
    const logs: string[] = [];
    const log = createLogger(
      'debug',
      new Writable({
        write: (chunk, _e, done) => {
          logs.push(String(chunk));
          done();
        },
      }),
    );
    const set = new TargetSet({ sink, log });
    cleanup.push(() => set.close());
    const [a] = targetsOf(
      `targets:\n  - name: a\n    address: "${server.address}"\n    interval: 1s\n    timeout: 500ms\n`,
    );
    if (!a) throw new Error('no target');
    await set.apply([a]);
    const runner = set.get('a');
    const watchUp = () =>
      sampleValue(table.render(), 'grpc_probe_health_watch_up', { target: 'a', health_service: '' });
    await waitFor(watchUp, (v) => v === 1, { what: 'target a watching' });

    // `a` changed and `b` new; `b`'s metadata value has a line break that grpc-js refuses.
    const changedA: TargetConfig = { ...a, timeoutMs: 400 };
    const badB: TargetConfig = { ...a, name: 'b', metadata: { 'x-note': 'line one\nline two' } };
    await expect(set.apply([changedA, badB])).rejects.toBeInstanceOf(TargetPrepareError);
    expect(set.get('a')).toBe(runner); // not replaced, not stopped
    expect(set.get('b')).toBeUndefined();
    const text = table.render();
    expect(text).not.toContain('target="b"');
    expect(status.snapshot().map((t) => t.name)).toEqual(['a']);
    expect(watchUp()).toBe(1);
    expect(logs.some((l) => l.includes('target stopped'))).toBe(false);

    // grpc-js quotes a refused value in its error; a secret's value is scrubbed by the one pass.
    const secretB: TargetConfig = {
      ...a,
      name: 'b',
      metadata: { authorization: new Secret('Bearer tok\nsecret-xyz-991', 'env T') },
    };
    const refused = await set.apply([changedA, secretB]).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(TargetPrepareError);
    expect((refused as Error).message).toContain('secret-xyz-991'); // what grpc-js echoed
    expect(redactError(refused)).not.toContain('secret-xyz-991');
    expect(set.get('a')).toBe(runner);

    // The same change without the bad target goes through.
    const summary = await set.apply([changedA]);
    expect(summary.changed).toEqual(['a']);
    expect(set.get('a')).not.toBe(runner);
  });
});

describe('timers longer than Node can hold', () => {
  it('a sleep past 2^31-1 ms does not fire after 1 ms (a 30d interval once flooded the target)', async () => {
    const abort = new AbortController();
    cleanup.push(() => abort.abort());
    const long = sleep(MAX_TIMER_MS + 60_000, abort.signal).then(() => 'long');
    const short = sleep(100, abort.signal).then(() => 'short');
    expect(await Promise.race([long, short])).toBe('short');
  });

  it('a periodic task at the longest interval runs once, not in a loop', async () => {
    let attempts = 0;
    const task = new PeriodicTask(
      async () => {
        attempts += 1;
        return MAX_TIMER_MS + 1; // the delay an attempt may ask for (backoff), past the timer limit
      },
      { intervalMs: MAX_DURATION_MS, maxInitialDelayMs: 0 },
    );
    cleanup.push(() => task.close());
    task.start();
    await waitFor(
      () => attempts,
      (n) => n >= 1,
      { what: 'the first attempt' },
    );
    const abort = new AbortController();
    await sleep(200, abort.signal);
    expect(attempts).toBe(1);
  });
});
