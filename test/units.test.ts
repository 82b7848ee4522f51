// Small pure pieces: durations, backoff.

import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import { Backoff } from '../src/util/backoff.js';

describe('durations', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['2d', 172_800_000],
    ['1w', 604_800_000],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    if (ms > 0) expect(parseDuration(formatDuration(ms))).toBe(ms);
  });

  it.each(['', '10', '1.5s', '10 s', '30s1m', '-1s', 's', '1S'])('rejects "%s"', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('backoff', () => {
  it('grows by the multiplier up to the cap, and reset() starts over', () => {
    const backoff = new Backoff({
      initialMs: 1000,
      maxMs: 3000,
      multiplier: 2,
      jitter: 0,
      random: () => 0.5,
    });
    expect([backoff.next(), backoff.next(), backoff.next(), backoff.next()]).toEqual([
      1000, 2000, 3000, 3000,
    ]);
    backoff.reset();
    expect(backoff.next()).toBe(1000);
  });

  it('jitters within the configured fraction either way', () => {
    const low = new Backoff({ initialMs: 1000, maxMs: 5000, jitter: 0.2, random: () => 0 });
    const high = new Backoff({ initialMs: 1000, maxMs: 5000, jitter: 0.2, random: () => 0.999999 });
    expect(low.next()).toBe(800);
    expect(high.next()).toBe(1200);
  });
});
