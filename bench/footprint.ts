// Footprint at 1, 100 and 1,000 targets (health Watch + one unary rpc each, 15 s interval): grpc-pulse,
// the floor (floor.ts) and blackbox_exporter run side by side, at the same time, against targets in
// their own processes. Then /metrics at that size: render time, body size plain and gzip, the longest
// event-loop stall during scrapes, and whether rpc probes arrive in lock-step.

import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { getText, mib, percentile, procStats, round, scrape, sleep } from './lib.js';
import {
  armed,
  blackboxAvailable,
  type Running,
  shippedNodeFlags,
  startBlackbox,
  startFloor,
  startPulse,
  startTargetChild,
} from './processes.js';
import type { Report } from './report.js';

const PROTO = 'test/fixtures/protos/probetest/v1/echo.proto';
const PROTO_DIR = 'test/fixtures/protos';
const INTERVAL_MS = 15_000;

export function fleetConfig(n: number, address: string): string {
  let text = `server: { listen: "127.0.0.1:0" }\nlog: { level: info }\ndefaults: { interval: 15s, timeout: 2s }\ntargets:\n`;
  for (let i = 0; i < n; i++) {
    text += `  - name: t${i}\n    address: "${address}"\n    rpcs:\n      - name: echo\n        method: probetest.v1.Echo/Echo\n        proto: { files: ["${join(process.cwd(), PROTO)}"], include: ["${join(process.cwd(), PROTO_DIR)}"] }\n        request: { message: "hi" }\n`;
  }
  return text;
}

async function waitUntil(what: string, timeoutMs: number, ok: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(500);
  }
}

const countLines = (body: string, prefix: string) =>
  body.split('\n').filter((l) => l.startsWith(prefix) && l.endsWith(' 1')).length;

/** At most this many blackbox probes in flight: a slow machine makes probes late, never a pile-up. */
const MAX_IN_FLIGHT = 64;

/**
 * blackbox probing `n` targets at one probe per target per interval, evenly spread, until stopped; a
 * probe that would exceed MAX_IN_FLIGHT is skipped and counted.
 */
function blackboxLoad(blackbox: Running, address: string, n: number): { stop: () => Promise<number> } {
  const url = `${blackbox.url}/probe?module=grpc&target=${address}`;
  let stopped = false;
  let due = 0;
  let skipped = 0;
  const started = performance.now();
  const inFlight = new Set<Promise<unknown>>();
  const loop = (async () => {
    while (!stopped) {
      const now = Math.floor(((performance.now() - started) / INTERVAL_MS) * n);
      for (; due < now; due++) {
        if (inFlight.size >= MAX_IN_FLIGHT) {
          skipped++;
          continue;
        }
        const p = getText(url).catch(() => '');
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
      }
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      await Promise.all(inFlight);
      return skipped;
    },
  };
}

export interface FootprintFigures {
  n: number;
  /** As shipped: with the node flags of deploy/Dockerfile. */
  pulse: { rss: number; anon: number; cpuPct: number };
  /** The same with V8's default flags, side by side: what the flags save and cost. */
  pulseDefaults: { rss: number; anon: number; cpuPct: number };
  floor: { rss: number; anon: number; cpuPct: number };
  blackbox?: { rss: number; anon: number; cpuPct: number };
  /** blackbox probes not sent because MAX_IN_FLIGHT were still running (a slow machine). */
  blackboxSkipped: number;
  scrape: ScrapeFigures;
  /** The most main-thread CPU in one event-loop gap of the V8-defaults process while it was scraped. */
  defaultsBusyStallMs: number;
  /** The same for the shipped process over a window without scrapes. */
  idleBusyStallMs: number;
  arrivals: { perSecond: number; busiest: number };
}

interface ScrapeFigures {
  plainMs: number;
  gzipMs: number;
  plainBytes: number;
  gzipBytes: number;
  encoding: string;
  /** Longest gap between event-loop ticks, and the most main-thread CPU spent in one (bench/stall-probe.ts). */
  stallMs: number;
  busyStallMs: number;
  series: number;
}

/** Scrapes plain and gzip in turn with the stall probe armed. */
async function scrapeWindow(target: Running, rounds: number): Promise<ScrapeFigures> {
  const plain: number[] = [];
  const gzip: number[] = [];
  let plainBytes = 0;
  let gzipBytes = 0;
  let encoding = '';
  let series = 0;
  const [, stallLine] = await armed(target.child, /STALL (\S+) (\S+)/, async () => {
    for (let i = 0; i < rounds; i++) {
      const p = await scrape(`${target.url}/metrics`, false);
      plain.push(p.ms);
      plainBytes = p.wireBytes;
      series = p.text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
      await sleep(300);
      const g = await scrape(`${target.url}/metrics`, true);
      gzip.push(g.ms);
      gzipBytes = g.wireBytes;
      encoding = g.encoding;
      await sleep(300);
    }
  });
  return {
    plainMs: percentile(plain, 50),
    gzipMs: percentile(gzip, 50),
    plainBytes,
    gzipBytes,
    encoding,
    stallMs: Number(stallLine[1]),
    busyStallMs: Number(stallLine[2]),
    series,
  };
}

export async function footprint(report: Report, quick: boolean): Promise<FootprintFigures[]> {
  const sizes = process.env.BENCH_SIZES?.split(',').map(Number) ?? (quick ? [1, 100] : [1, 100, 1000]);
  const settleMs = (n: number) => (quick ? 10_000 : n >= 1000 ? 60_000 : 20_000);
  const windowMs = quick ? 10_000 : 30_000;
  const figures: FootprintFigures[] = [];
  const blackbox = blackboxAvailable() ? await startBlackbox() : undefined;
  for (const n of sizes) {
    // Separate targets, so that each prober's arrivals are its own.
    const pulseTarget = await startTargetChild();
    const defaultsTarget = await startTargetChild();
    const floorTarget = await startTargetChild();
    const started = performance.now();
    const pulse = await startPulse(fleetConfig(n, pulseTarget.address), shippedNodeFlags());
    const pulseDefaults = await startPulse(fleetConfig(n, defaultsTarget.address));
    const floor = await startFloor(floorTarget.address, n, INTERVAL_MS);
    for (const p of [pulse, pulseDefaults]) {
      await waitUntil(`grpc-pulse: ${n} Watch streams up`, 120_000, async () => {
        return countLines(await getText(`${p.url}/metrics`), 'grpc_probe_health_watch_up{') >= n;
      });
    }
    await waitUntil(`floor: ${n} Watch streams up`, 120_000, async () => {
      return countLines(await getText(`${floor.url}/metrics`), 'floor_watch_up{') >= n;
    });
    const load = blackbox ? blackboxLoad(blackbox, pulseTarget.address, n) : undefined;
    const settle = settleMs(n) - (performance.now() - started);
    if (settle > 0) await sleep(settle);

    // Steady state: CPU over a window with one scrape every 15 s, as Prometheus would.
    const before = [
      procStats(pulse.child.pid),
      procStats(floor.child.pid),
      procStats(pulseDefaults.child.pid),
    ];
    const bbBefore = blackbox ? procStats(blackbox.child.pid) : undefined;
    const t0 = performance.now();
    const [, arrivalsLine] = await armed(pulseTarget.child, /ARRIVALS (\d+) (\d+) (\d+)/, async () => {
      while (performance.now() - t0 < windowMs) {
        await getText(`${pulse.url}/metrics`);
        await getText(`${pulseDefaults.url}/metrics`);
        await getText(`${floor.url}/metrics`);
        await sleep(Math.max(0, Math.min(INTERVAL_MS, windowMs - (performance.now() - t0))));
      }
    });
    const seconds = (performance.now() - t0) / 1000;
    const after = [
      procStats(pulse.child.pid),
      procStats(floor.child.pid),
      procStats(pulseDefaults.child.pid),
    ];
    const bbAfter = blackbox ? procStats(blackbox.child.pid) : undefined;
    const blackboxSkipped = (await load?.stop()) ?? 0;
    const cpuPct = (a: { cpuSeconds: number }, b: { cpuSeconds: number }) =>
      ((a.cpuSeconds - b.cpuSeconds) / seconds) * 100;
    const mem = (s: { rssBytes: number; anonBytes: number }) => ({
      rss: mib(s.rssBytes),
      anon: mib(s.anonBytes),
    });

    // /metrics at this size: plain and gzip, stalls measured inside grpc-pulse while scraping; the same
    // for the V8-defaults process, and a window without scrapes for what stalls without them.
    const scraped = await scrapeWindow(pulse, quick ? 3 : 5);
    const defaultsScraped = await scrapeWindow(pulseDefaults, 3);
    const [, idleLine] = await armed(pulse.child, /STALL (\S+) (\S+)/, () => sleep(quick ? 2000 : 5000));
    const figure: FootprintFigures = {
      n,
      pulse: { ...mem(after[0] as never), cpuPct: cpuPct(after[0] as never, before[0] as never) },
      pulseDefaults: { ...mem(after[2] as never), cpuPct: cpuPct(after[2] as never, before[2] as never) },
      floor: { ...mem(after[1] as never), cpuPct: cpuPct(after[1] as never, before[1] as never) },
      ...(bbAfter && bbBefore ? { blackbox: { ...mem(bbAfter), cpuPct: cpuPct(bbAfter, bbBefore) } } : {}),
      blackboxSkipped,
      scrape: scraped,
      defaultsBusyStallMs: defaultsScraped.busyStallMs,
      idleBusyStallMs: Number(idleLine[2]),
      arrivals: {
        perSecond: Number(arrivalsLine[1]) / Math.max(1, Number(arrivalsLine[2])),
        busiest: Number(arrivalsLine[3]),
      },
    };
    figures.push(figure);
    for (const c of [pulse, pulseDefaults, floor, pulseTarget, defaultsTarget, floorTarget])
      await c.child.stop();
  }
  await blackbox?.child.stop();

  const m = (v: number) => `${round(v, 1)} MiB`;
  const pct = (v: number) => `${round(v, 2)}%`;
  report.section('Footprint (health Watch + one unary rpc per target, 15 s interval, side by side)', [
    `Memory after ${quick ? 10 : 60} s (1,000 targets) or ${quick ? 10 : 20} s (fewer), CPU over the next ${windowMs / 1000} s with one scrape per 15 s. Private = RssAnon (heap, stacks, buffers; RSS also counts the mapped node binary). blackbox_exporter probes the same number of targets at one probe per target per 15 s.`,
    '',
    `grpc-pulse runs as shipped (node ${shippedNodeFlags().join(' ')}, from deploy/Dockerfile) and, at the same time, with V8's defaults; the floor runs with the shipped flags too.`,
    '',
    '| targets | grpc-pulse RSS | private | CPU (of one core) | V8 defaults: RSS | private | CPU | floor RSS | private | CPU | blackbox RSS | private | CPU |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.n}${f.blackboxSkipped > 0 ? ` (blackbox: ${f.blackboxSkipped} probes skipped, ${MAX_IN_FLIGHT} in flight)` : ''} | ${m(f.pulse.rss)} | ${m(f.pulse.anon)} | ${pct(f.pulse.cpuPct)} | ${m(f.pulseDefaults.rss)} | ${m(f.pulseDefaults.anon)} | ${pct(f.pulseDefaults.cpuPct)} | ${m(f.floor.rss)} | ${m(f.floor.anon)} | ${pct(f.floor.cpuPct)} | ${f.blackbox ? `${m(f.blackbox.rss)} | ${m(f.blackbox.anon)} | ${pct(f.blackbox.cpuPct)}` : 'not installed | | '} |`,
    ),
  ]);
  report.section('Scrape cost (/metrics, client-measured to the last byte)', [
    'Stall: the longest gap between event-loop ticks in grpc-pulse while it was scraped; busy: the most main-thread CPU time spent within one gap (what grpc-pulse itself blocked; the rest of a gap is the OS running other processes on this shared machine). The last two columns: the same busy figure for the V8-defaults process while scraped, and for the shipped one over a window without scrapes.',
    '',
    '| targets | series | plain: body | time p50 | gzip: body | time p50 | stall | busy | busy, V8 defaults | busy, no scrape |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...figures.map(
      (f) =>
        `| ${f.n} | ${f.scrape.series} | ${round(f.scrape.plainBytes / 1e6, 2)} MB | ${round(f.scrape.plainMs, 1)} ms | ${f.scrape.encoding === 'gzip' ? `${round(f.scrape.gzipBytes / 1e6, 3)} MB` : 'not compressed'} | ${round(f.scrape.gzipMs, 1)} ms | ${round(f.scrape.stallMs, 1)} ms | ${round(f.scrape.busyStallMs, 1)} ms | ${round(f.defaultsBusyStallMs, 1)} ms | ${round(f.idleBusyStallMs, 1)} ms |`,
    ),
  ]);
  report.section("Probe spread (rpc calls arriving at grpc-pulse's target per second)", [
    '| targets | calls per second, mean | busiest second |',
    '|---|---|---|',
    ...figures.map((f) => `| ${f.n} | ${round(f.arrivals.perSecond, 1)} | ${f.arrivals.busiest} |`),
  ]);
  return figures;
}

/** What importing each piece of the stack adds (import-cost.ts in a child with the shipped flags). */
export function importCosts(report: Report): { module: string; rss: number; anon: number }[] {
  const modules = [
    'node:http2',
    'node:http',
    '@grpc/grpc-js',
    'fastify',
    'zod',
    'yaml',
    'pino',
    'prom-client',
    'protobufjs',
    './dist/config/load.js',
    './dist/app.js',
  ];
  const out = spawnSync(
    process.execPath,
    [...shippedNodeFlags(), '--expose-gc', '.bench-dist/bench/import-cost.js', ...modules],
    { encoding: 'utf8' },
  );
  const rows = JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '[]') as {
    module: string;
    rss: number;
    anon: number;
  }[];
  report.section('Loaded code (what each import adds, in the order grpc-pulse loads them)', [
    'Imported one after another in a fresh node with the shipped flags, after a GC each; a module counts only what the ones before it had not loaded. `./dist/config/load.js` is the config loader and schema (zod, yaml and the rpc checks), `./dist/app.js` everything else of grpc-pulse.',
    '',
    '| module | private (RssAnon) | RSS |',
    '|---|---|---|',
    ...rows.map((r, i) => {
      const sign = i === 0 ? '' : '+';
      return `| ${r.module} | ${sign}${round(r.anon, 1)} MiB | ${sign}${round(r.rss, 1)} MiB |`;
    }),
  ]);
  return rows;
}
