// `npm run bench`: grpc-pulse measured side by side with the floor of its stack (bench/floor.ts: bare
// grpc-js + node:http) and blackbox_exporter, in one run on this machine; every goal printed with this
// run's figures and written to bench/RESULTS.md. Ratios matter more than absolute numbers on a shared
// machine. `npm run bench -- footprint cost` runs only those (and writes no RESULTS.md);
// BENCH_QUICK=1 shortens every count and window; BENCH_SIZES=1,1000 picks the footprint sizes.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { VERSION } from '../src/version.js';
import { type DetectionFigures, detection } from './detection.js';
import { type FootprintFigures, footprint, importCosts } from './footprint.js';
import { mib, procStats, round, sleep } from './lib.js';
import { type ProbeCostFigures, probeCost } from './probe-cost.js';
import { blackboxVersion, shippedNodeFlags } from './processes.js';
import { Report } from './report.js';
import { type SoakFigures, soak } from './soak.js';

const quick = process.env.BENCH_QUICK === '1';

/** RSS and private memory of this node with nothing loaded: the part of every figure no code can save. */
async function idleNode(): Promise<{ rss: number; anon: number }> {
  const child = spawn(process.execPath, [...shippedNodeFlags(), '-e', 'setInterval(() => {}, 1000)'], {
    stdio: 'ignore',
  });
  await sleep(1500);
  const stats = procStats(child.pid as number);
  child.kill('SIGTERM');
  return { rss: mib(stats.rssBytes), anon: mib(stats.anonBytes) };
}

const mb = (v: number) => `${round(v, 1)} MiB`;
const ratio = (a: number, b: number) => `${round(a / b, 2)}×`;

function footprintGoals(report: Report, figures: FootprintFigures[], idle: { rss: number; anon: number }) {
  const one = figures.find((f) => f.n === 1);
  const big = figures.find((f) => f.n === 1000);
  if (one) {
    const share = one.pulse.anon / one.floor.anon;
    report.goal({
      what: 'private memory (RssAnon), 1 target',
      target: '≤ 1.3× the floor',
      pulse: `${mb(one.pulse.anon)} (${ratio(one.pulse.anon, one.floor.anon)})`,
      floor: mb(one.floor.anon),
      blackbox: one.blackbox && mb(one.blackbox.anon),
      met: share <= 1.3,
      cause: `${mb(one.pulse.anon - one.floor.anon)} above the floor is loaded code`,
      causes: 'Memory with one target',
    });
    report.goal({
      what: 'RSS, 1 target',
      target: '≤ 56 MiB',
      pulse: mb(one.pulse.rss),
      floor: mb(one.floor.rss),
      blackbox: one.blackbox && mb(one.blackbox.rss),
      met: one.pulse.rss <= 56,
      cause: `node ${process.version} idle is ${mb(idle.rss)} RSS (${mb(idle.rss - idle.anon)} of it the mapped binary), the floor ${mb(one.floor.rss)}`,
      causes: 'Memory with one target',
    });
  }
  if (big) {
    report.goal({
      what: 'RSS, 1,000 targets, steady state',
      target: '≤ 150 MiB',
      pulse: mb(big.pulse.rss),
      floor: mb(big.floor.rss),
      blackbox: big.blackbox && mb(big.blackbox.rss),
      met: big.pulse.rss <= 150,
      cause: `the floor itself needs ${mb(big.floor.rss)}`,
      causes: 'Memory with 1,000 targets',
    });
    report.goal({
      what: 'RSS, 1,000 targets, vs the floor',
      target: '≤ 1.3× the floor',
      pulse: ratio(big.pulse.rss, big.floor.rss),
      floor: mb(big.floor.rss),
      met: big.pulse.rss / big.floor.rss <= 1.3,
      cause: `${mb(big.pulse.rss - big.floor.rss)} above the floor (private ${mb(big.pulse.anon)} vs ${mb(big.floor.anon)})`,
      causes: 'Memory with 1,000 targets',
    });
    report.goal({
      what: '/metrics at 1,000 targets: gzip when asked',
      target: 'Content-Encoding: gzip',
      pulse: `${round(big.scrape.plainBytes / 1e6, 2)} MB → ${round(big.scrape.gzipBytes / 1e6, 3)} MB, ${round(big.scrape.gzipMs, 1)} ms (plain ${round(big.scrape.plainMs, 1)} ms)`,
      met: big.scrape.encoding === 'gzip',
      cause: `answered with encoding "${big.scrape.encoding}"`,
    });
    report.goal({
      what: 'event-loop stall during a 1,000-target scrape',
      target: '≤ 20 ms',
      pulse: `${round(big.scrape.busyStallMs, 1)} ms busy (gap ${round(big.scrape.stallMs, 1)} ms)`,
      met: big.scrape.busyStallMs <= 20,
      cause: `busy ${round(big.idleBusyStallMs, 1)} ms in a window without scrapes; ${round(big.defaultsBusyStallMs, 1)} ms with V8's defaults`,
      causes: 'Scrape stalls',
    });
    const spread = big.arrivals.busiest / big.arrivals.perSecond;
    report.goal({
      what: 'no lockstep: rpc calls in the busiest second at 1,000 targets',
      target: '≤ 2× the mean',
      pulse: `${big.arrivals.busiest} (mean ${round(big.arrivals.perSecond, 1)}/s, ${round(spread, 2)}×)`,
      met: spread <= 2,
      cause: 'first runs bunched together',
    });
  }
  const busiest = figures.at(-1);
  if (busiest) {
    report.goal({
      what: `CPU, ${busiest.n} targets (V8 flags' cost: the same with V8's defaults)`,
      target: 'informative',
      pulse: `${round(busiest.pulse.cpuPct, 2)}% (V8 defaults ${round(busiest.pulseDefaults.cpuPct, 2)}%, ${mb(busiest.pulseDefaults.rss)} RSS)`,
      floor: `${round(busiest.floor.cpuPct, 2)}%`,
      blackbox: busiest.blackbox && `${round(busiest.blackbox.cpuPct, 2)}%`,
      met: true,
    });
  }
}

function costGoals(report: Report, cost: ProbeCostFigures) {
  report.goal({
    what: 'CPU per unary probe',
    target: '≤ 1.1× the bare grpc-js loop',
    pulse: `${round(cost.cpuMsPerProbe, 3)} ms (${ratio(cost.cpuMsPerProbe, cost.bareCpuMsPerProbe)})`,
    floor: `${round(cost.bareCpuMsPerProbe, 3)} ms`,
    blackbox: `${round(cost.blackboxCpuMsPerProbe, 3)} ms`,
    met: cost.cpuMsPerProbe <= 1.1 * cost.bareCpuMsPerProbe,
    cause: `${round(cost.cpuMsPerProbe - cost.bareCpuMsPerProbe, 3)} ms per probe above the bare call`,
    causes: 'CPU per probe',
  });
  report.goal({
    what: 'reported latency vs bare grpc-js, p50',
    target: '≤ 0.5 ms apart',
    pulse: `${round(cost.latencyDiffMs, 3)} ms`,
    met: cost.latencyDiffMs <= 0.5,
  });
}

function detectionGoals(report: Report, d: DetectionFigures) {
  report.goal({
    what: 'status change visible in /metrics, p99',
    target: '≤ 10 ms',
    pulse: `${round(d.p99Ms, 1)} ms`,
    blackbox: `${round(d.blackbox1sP50Ms, 0)} ms p50 at a 1 s scrape`,
    met: d.p99Ms <= 10,
    cause: 'the figure includes one /metrics render by the polling client',
    causes: 'Detection p99',
  });
  report.goal({
    what: 'outages of 2 s counted',
    target: '100%',
    pulse: `${round(d.outageShare * 100, 0)}%`,
    met: d.outageShare >= 1,
  });
}

function soakGoals(report: Report, s: SoakFigures) {
  report.goal({
    what: 'RSS growth over the soak',
    target: '< 5 MiB, no handle growth',
    pulse: `${round(s.rssGrowthMiB, 1)} MiB, handles ${s.handleGrowth >= 0 ? '+' : ''}${s.handleGrowth}`,
    met: s.rssGrowthMiB < 5 && s.handleGrowth <= 0,
  });
}

async function main(): Promise<void> {
  const started = new Date();
  const only = process.argv.slice(2);
  const run = (name: string) => only.length === 0 || only.includes(name);
  const report = new Report();
  const idle = await idleNode();
  report.goal({
    what: 'runtime',
    target: 'Node 24 LTS',
    pulse: process.version,
    met: Number(process.versions.node.split('.')[0]) === 24,
    cause: 'npm scripts did not run the node of node_modules/.bin',
  });
  if (run('footprint')) {
    importCosts(report);
    footprintGoals(report, await footprint(report, quick), idle);
  }
  if (run('cost')) costGoals(report, await probeCost(report, quick));
  if (run('detection')) detectionGoals(report, await detection(report, quick));
  if (run('soak')) soakGoals(report, await soak(report, quick));
  const seconds = Math.round((Date.now() - started.getTime()) / 1000);
  const grpcJs = JSON.parse(readFileSync('node_modules/@grpc/grpc-js/package.json', 'utf8')).version;
  const header = [
    '# grpc-pulse benchmarks',
    '',
    `Generated by \`npm run bench\` on ${started.toISOString()} in ${seconds} s${quick ? ' (BENCH_QUICK=1: reduced counts)' : ''}. Everything below ran side by side in one run on one machine;`,
    'read the ratios, not the absolute times (these machines are shared and noisy). Why the missed goals',
    'are missed, and what was tried: [CAUSES.md](CAUSES.md).',
    '',
    `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${round(totalmem() / 2 ** 30, 0)} GiB. Node ${process.version} (idle: ${mb(idle.rss)} RSS, ${mb(idle.anon)} private), grpc-pulse ${VERSION}, @grpc/grpc-js ${grpcJs}, blackbox_exporter ${blackboxVersion()}.`,
  ];
  if (only.length === 0) report.write('bench/RESULTS.md', header);
  process.stdout.write(`\nbench finished in ${seconds} s\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
