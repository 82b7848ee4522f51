// The periodic task's timing on a fake clock: the first run at a random point of the whole interval
// (no lock-step across targets), then a fixed rate that neither drifts with slow attempts nor catches
// up in a burst after a freeze.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { PeriodicTask } from '../src/probes/scheduler.js';

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A task whose attempts record their start time (fake clock) and take `attemptMs` each. */
function recorder(intervalMs: number, random: () => number, attemptMs = 0) {
  const starts: number[] = [];
  const task = new PeriodicTask(
    async () => {
      starts.push(performance.now());
      if (attemptMs > 0) await new Promise((r) => setTimeout(r, attemptMs));
    },
    { intervalMs, random },
  );
  return { task, starts };
}

describe('PeriodicTask', () => {
  it.each([0, 0.25, 0.999])('starts at random × the whole interval (random %s)', async (r) => {
    const origin = performance.now();
    const { task, starts } = recorder(60_000, () => r);
    task.start();
    if (r > 0) {
      await vi.advanceTimersByTimeAsync(Math.floor(r * 60_000) - 1);
      expect(starts).toHaveLength(0);
    }
    await vi.advanceTimersByTimeAsync(r > 0 ? 1 : 0);
    expect(starts).toHaveLength(1);
    expect((starts[0] as number) - origin).toBe(Math.floor(r * 60_000));
    await task.close();
  });

  it('spreads a thousand tasks over the interval instead of its first second', async () => {
    const tasks = Array.from({ length: 1000 }, (_, i) => recorder(15_000, () => i / 1000));
    for (const t of tasks) t.task.start();
    await vi.advanceTimersByTimeAsync(1000);
    const inFirstSecond = tasks.filter((t) => t.starts.length > 0).length;
    expect(inFirstSecond).toBeLessThanOrEqual(1000 / 15 + 1);
    await vi.advanceTimersByTimeAsync(13_990);
    expect(tasks.every((t) => t.starts.length === 1)).toBe(true);
    await Promise.all(tasks.map((t) => t.task.close()));
  });

  it('runs at a fixed rate from the first run, whatever each attempt takes', async () => {
    const origin = performance.now();
    const { task, starts } = recorder(1000, () => 0.5, 300);
    task.start();
    // Ends between runs (the last attempt finished at 5,800), where close() aborts the wait.
    await vi.advanceTimersByTimeAsync(5_900);
    expect(starts.map((s) => s - origin)).toEqual([500, 1500, 2500, 3500, 4500, 5500]);
    await task.close();
  });

  it('skips the runs missed while frozen instead of bursting', async () => {
    const origin = performance.now();
    let freeze = true;
    const starts: number[] = [];
    const task = new PeriodicTask(
      async () => {
        starts.push(performance.now() - origin);
        // The second attempt holds the loop for 3.5 intervals, as a frozen process would.
        if (starts.length === 2 && freeze) {
          freeze = false;
          await new Promise((r) => setTimeout(r, 3500));
        }
      },
      { intervalMs: 1000, random: () => 0 },
    );
    task.start();
    await vi.advanceTimersByTimeAsync(7_000);
    expect(starts).toEqual([0, 1000, 5000, 6000, 7000]);
    await task.close();
  });

  it('stops at close, also while waiting for the first run', async () => {
    const { task, starts } = recorder(10_000, () => 0.9);
    task.start();
    await vi.advanceTimersByTimeAsync(1000);
    await task.close();
    await vi.advanceTimersByTimeAsync(20_000);
    expect(starts).toHaveLength(0);
  });
});
