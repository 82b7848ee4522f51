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

describe('metric table exposition', () => {
  it('renders counters, gauges and cumulative histograms that a Prometheus parser reads back', async () => {
    const { MetricTable } = await import('../src/metrics/metric-table.js');
    const { parseSamples } = await import('./harness/prom-text.js');
    const table = new MetricTable();
    const counter = table.counter('x_total', 'Help with a \\ backslash.', ['target', 'reason']);
    counter.inc({ target: 'a "quoted"\nname', reason: 'r' }, 2);
    const histogram = table.histogram('x_seconds', 'Latency.', ['target'], [0.1, 1]);
    const cell = histogram.cell({ target: 'a' });
    for (const v of [0.05, 0.5, 0.7, 5]) histogram.observe(cell, v);
    const text = table.render();
    const samples = parseSamples(text);
    expect(samples.find((s) => s.name === 'x_total')?.labels.target).toBe('a "quoted"\nname');
    const buckets = samples.filter((s) => s.name === 'x_seconds_bucket').map((s) => [s.labels.le, s.value]);
    expect(buckets).toEqual([
      ['0.1', 1],
      ['1', 3],
      ['+Inf', 4],
    ]);
    expect(samples.find((s) => s.name === 'x_seconds_count')?.value).toBe(4);
    expect(text).toContain('# HELP x_total Help with a \\\\ backslash.');
    counter.removeTarget('a "quoted"\nname');
    histogram.removeTarget('a');
    expect(table.render()).toBe('');
  });

  it('refuses a second family of the same name, whatever its type', async () => {
    const { MetricTable } = await import('../src/metrics/metric-table.js');
    const table = new MetricTable();
    table.counter('x_total', 'First.', ['target']);
    expect(() => table.gauge('x_total', 'Second.', ['target'])).toThrow('x_total is registered twice');
    expect(() => table.histogram('x_total', 'Third.', ['target'], [1])).toThrow('registered twice');
    table.gauge('y', 'Another name.', ['target']);
  });

  it('removes the series of one probe and keeps the rest of its target', async () => {
    const { MetricTable } = await import('../src/metrics/metric-table.js');
    const { parseSamples } = await import('./harness/prom-text.js');
    const table = new MetricTable();
    const counter = table.counter('x_total', 'X.', ['target', 'probe', 'reason']);
    const histogram = table.histogram('x_seconds', 'X.', ['target', 'probe'], [1]);
    for (const [target, probe] of [
      ['a', 'health'],
      ['a', 'health:one'],
      ['b', 'health'],
    ] as const) {
      counter.inc({ target, probe, reason: 'r' });
      histogram.observe(histogram.cell({ target, probe }), 0.5);
    }
    counter.removeMatching({ target: 'a', probe: 'health' });
    histogram.removeMatching({ target: 'a', probe: 'health' });
    // A label the family does not have matches nothing.
    counter.removeMatching({ target: 'b', health_service: '' });
    const left = (name: string) =>
      parseSamples(table.render())
        .filter((s) => s.name === name)
        .map((s) => `${s.labels.target}/${s.labels.probe}`);
    expect(left('x_total')).toEqual(['a/health:one', 'b/health']);
    expect(left('x_seconds_count')).toEqual(['a/health:one', 'b/health']);
  });
});
