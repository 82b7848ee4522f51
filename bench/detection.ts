// Detection latency and outage capture: one health server flipped in this process, watched by a
// grpc-pulse child (pushed Watch, /metrics polled back to back) and by blackbox_exporter scraped every
// 1 s and every 15 s.

import { GrpcTarget } from '../test/harness/grpc-target.js';
import { sampleValue } from '../test/harness/prom-text.js';
import { getText, percentile, round, sleep } from './lib.js';
import { startBlackbox, startPulse } from './processes.js';
import type { Report } from './report.js';

export interface DetectionFigures {
  p99Ms: number;
  outageShare: number;
  blackbox1sP50Ms: number;
}

interface Scrape {
  at: number;
  notServing: boolean;
}

class Scraper {
  readonly scrapes: Scrape[] = [];
  #timer: NodeJS.Timeout | undefined;
  constructor(
    readonly url: string,
    readonly intervalMs: number,
  ) {}
  start(): void {
    const tick = async () => {
      const at = performance.now();
      try {
        const body = await getText(this.url);
        const notServing =
          sampleValue(body, 'probe_grpc_healthcheck_response', { serving_status: 'NOT_SERVING' }) === 1;
        this.scrapes.push({ at, notServing });
      } catch {
        // a failed scrape sees nothing
      }
    };
    void tick();
    this.#timer = setInterval(tick, this.intervalMs);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
  /** When the first scrape started at or after `t0` saw NOT_SERVING, relative to t0 (completion ≈ start). */
  detectedAfter(t0: number): number | undefined {
    const hit = this.scrapes.find((s) => s.at >= t0 && s.notServing);
    return hit ? hit.at - t0 : undefined;
  }
}

async function pulseShows(url: string, status: string, timeoutMs: number): Promise<number | undefined> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    const body = await getText(`${url}/metrics`);
    if (sampleValue(body, 'grpc_probe_health_status', { target: 'flip', health_service: '', status }) === 1) {
      return performance.now();
    }
  }
  return undefined;
}

export async function detection(report: Report, quick: boolean): Promise<DetectionFigures> {
  const server = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  const pulse = await startPulse(
    `server: { listen: "127.0.0.1:0" }\nlog: { level: info }\ntargets:\n  - name: flip\n    address: "${server.address}"\n`,
  );
  const blackbox = await startBlackbox();
  const probeUrl = `${blackbox.url}/probe?module=grpc&target=${server.address}`;
  await pulseShows(pulse.url, 'SERVING', 10_000);
  const fast = new Scraper(probeUrl, 1000);
  const slow = new Scraper(probeUrl, 15_000);
  fast.start();
  slow.start();

  const flips = quick ? 2 : 6;
  const pulseMs: number[] = [];
  const fastMs: number[] = [];
  const slowMs: number[] = [];
  for (let i = 0; i < flips; i++) {
    await sleep(500 + Math.random() * 1500);
    const t0 = performance.now();
    server.setStatus('', 'NOT_SERVING');
    const seen = await pulseShows(pulse.url, 'NOT_SERVING', 5000);
    if (seen !== undefined) pulseMs.push(seen - t0);
    // Hold until both blackbox scrapers have seen it (at most 15 s).
    while (slow.detectedAfter(t0) === undefined || fast.detectedAfter(t0) === undefined) await sleep(50);
    fastMs.push(fast.detectedAfter(t0) as number);
    slowMs.push(slow.detectedAfter(t0) as number);
    server.setStatus('', 'SERVING');
    await pulseShows(pulse.url, 'SERVING', 5000);
  }
  // Many more flips for grpc-pulse alone: it needs no scrape to catch them.
  for (let i = 0; i < (quick ? 20 : 200); i++) {
    const t0 = performance.now();
    server.setStatus('', i % 2 === 0 ? 'NOT_SERVING' : 'SERVING');
    const seen = await pulseShows(pulse.url, i % 2 === 0 ? 'NOT_SERVING' : 'SERVING', 5000);
    if (seen !== undefined) pulseMs.push(seen - t0);
  }
  server.setStatus('', 'SERVING');

  // Outages: 2 s NOT_SERVING at random times. grpc-pulse counts transitions; a scrape sees an outage
  // only if it happens to run during it.
  const outages = quick ? 4 : 15;
  const changesBefore =
    sampleValue(await getText(`${pulse.url}/metrics`), 'grpc_probe_health_changes_total', {
      target: 'flip',
      health_service: '',
      status: 'NOT_SERVING',
    }) ?? 0;
  const windows: [number, number][] = [];
  for (let i = 0; i < outages; i++) {
    await sleep(1000 + Math.random() * 2000);
    const start = performance.now();
    server.setStatus('', 'NOT_SERVING');
    await sleep(2000);
    server.setStatus('', 'SERVING');
    windows.push([start, performance.now()]);
  }
  await sleep(200);
  const changesAfter =
    sampleValue(await getText(`${pulse.url}/metrics`), 'grpc_probe_health_changes_total', {
      target: 'flip',
      health_service: '',
      status: 'NOT_SERVING',
    }) ?? 0;
  const seenBy = (scraper: Scraper) =>
    windows.filter(([a, b]) => scraper.scrapes.some((s) => s.notServing && s.at >= a && s.at <= b + 200))
      .length;
  fast.stop();
  slow.stop();
  await pulse.child.stop();
  await blackbox.child.stop();
  await server.stop();

  const ms = (v: number) => `${round(v, 1)} ms`;
  report.section('Detection latency (health status flip → visible)', [
    '| prober | flips | p50 | p99 | max |',
    '|---|---|---|---|---|',
    `| grpc-pulse (Watch, /metrics polled back to back) | ${pulseMs.length} | ${ms(percentile(pulseMs, 50))} | ${ms(percentile(pulseMs, 99))} | ${ms(Math.max(...pulseMs))} |`,
    `| blackbox_exporter grpc, scraped every 1 s | ${fastMs.length} | ${ms(percentile(fastMs, 50))} | ${ms(percentile(fastMs, 99))} | ${ms(Math.max(...fastMs))} |`,
    `| blackbox_exporter grpc, scraped every 15 s | ${slowMs.length} | ${ms(percentile(slowMs, 50))} | ${ms(percentile(slowMs, 99))} | ${ms(Math.max(...slowMs))} |`,
    '',
    `Ratio at p50: blackbox@1s / grpc-pulse = ${round(percentile(fastMs, 50) / percentile(pulseMs, 50), 0)}×, blackbox@15s / grpc-pulse = ${round(percentile(slowMs, 50) / percentile(pulseMs, 50), 0)}×. ` +
      "grpc-pulse's figure includes one /metrics render (the polling resolution).",
  ]);
  report.section('Outage capture (2 s NOT_SERVING at random times)', [
    '| prober | outages seen | share |',
    '|---|---|---|',
    `| grpc-pulse (grpc_probe_health_changes_total) | ${changesAfter - changesBefore} / ${outages} | ${round(((changesAfter - changesBefore) / outages) * 100, 0)}% |`,
    `| blackbox_exporter, 1 s scrape | ${seenBy(fast)} / ${outages} | ${round((seenBy(fast) / outages) * 100, 0)}% |`,
    `| blackbox_exporter, 15 s scrape | ${seenBy(slow)} / ${outages} | ${round((seenBy(slow) / outages) * 100, 0)}% |`,
  ]);
  return {
    p99Ms: percentile(pulseMs, 99),
    outageShare: (changesAfter - changesBefore) / outages,
    blackbox1sP50Ms: percentile(fastMs, 50),
  };
}
