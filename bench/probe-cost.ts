// Probe cost and latency fidelity: grpc-pulse's unary probe (with its recorders) against a bare
// grpc-js loop making the same call, in this process, against a target in another process; and
// blackbox_exporter's grpc module driven through /probe.

import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { MetricTable } from '../src/metrics/metric-table.js';
import { ProbeRecorder } from '../src/metrics/probe-recorder.js';
import { planTarget } from '../src/probes/plan.js';
import { UnaryProbe } from '../src/probes/unary.js';
import { encodeRequest, resolveMethod } from '../src/rpc/method.js';
import { loadProtoFiles } from '../src/rpc/proto-root.js';
import { StatusStore } from '../src/status/status-store.js';
import { channelSpec } from '../src/targets/channel.js';
import { TARGET_SINK_METHODS, type TargetSink } from '../src/targets/sink.js';
import { TargetRunner } from '../src/targets/target-runner.js';
import { fanOut } from '../src/util/fan-out.js';
import { getText, percentile, procStats, round } from './lib.js';
import { startBlackbox, startTargetChild } from './processes.js';
import type { Report } from './report.js';

const PROTO = 'test/fixtures/protos/probetest/v1/echo.proto';
const PROTO_DIR = 'test/fixtures/protos';

export interface ProbeCostFigures {
  cpuMsPerProbe: number;
  bareCpuMsPerProbe: number;
  blackboxCpuMsPerProbe: number;
  throughputShare: number;
  latencyDiffMs: number;
}

/**
 * grpc-pulse's unary probe inside a real TargetRunner (the product's channel, metadata, startup-grace
 * wrapper and connection watcher), reporting to the real recorders through the sink port as TargetSet
 * wires them; `attempt` is the probe's own scheduled attempt, what its PeriodicTask runs every interval.
 */
function pulseProbe(address: string, request: Record<string, unknown>) {
  const config = parseConfigText(
    // A 1 h interval: the scheduler's own run (at a random point of the hour) stays out of the way.
    `targets:\n  - name: api\n    address: "${address}"\n    health: []\n    rpcs:\n      - name: echo\n        method: probetest.v1.Echo/Echo\n        proto: { files: ["${PROTO}"], include: ["${PROTO_DIR}"] }\n        request: ${JSON.stringify(request)}\n        interval: 1h\n`,
    'bench.yaml',
    { baseDir: process.cwd(), env: {} },
  );
  const target = config.targets[0];
  if (!target) throw new Error('bench config');
  const recorder = new ProbeRecorder(new MetricTable());
  const status = new StatusStore();
  /** Sees each result as the recorders do, for the latency the probe reported. */
  let lastDuration: number | undefined;
  const tap = Object.fromEntries(
    Object.keys(TARGET_SINK_METHODS).map((m) => [m, () => {}]),
  ) as unknown as TargetSink;
  tap.result = (_target, _probe, result) => {
    lastDuration = result.durationSeconds;
  };
  const sink = fanOut<TargetSink>([recorder, status, tap], TARGET_SINK_METHODS);
  const plan = planTarget(target);
  sink.addTarget(plan);
  const runner = new TargetRunner({
    plan,
    channel: channelSpec(target),
    startupGraceMs: target.startupGraceMs,
    sink,
    log: createLogger('silent'),
  });
  runner.start();
  const probe = runner.probe('echo');
  if (!(probe instanceof UnaryProbe)) throw new Error('bench plan: expected a unary probe');
  const signal = new AbortController().signal;
  /** One scheduled attempt; resolves with the latency it recorded (grpc_probe_duration_seconds). */
  const attempt = async () => {
    lastDuration = undefined;
    await probe.attempt(signal);
    return lastDuration;
  };
  return { attempt, close: () => runner.close() };
}

function bareCall(address: string, request: Record<string, unknown>) {
  const root = loadProtoFiles([PROTO], [PROTO_DIR]);
  const method = resolveMethod(root, 'probetest.v1.Echo/Echo');
  if ('error' in method) throw new Error(method.error);
  const bytes = encodeRequest(method.ok.requestType, request);
  const client = new Client(address, credentials.createInsecure(), {});
  const call = () =>
    new Promise<number>((resolve, reject) => {
      const started = performance.now();
      client.makeUnaryRequest(
        method.ok.path,
        (b: Buffer) => b,
        (b: Buffer) => method.ok.responseType.decode(b),
        bytes,
        new Metadata(),
        { deadline: Date.now() + 1000 },
        (err) => (err ? reject(err) : resolve((performance.now() - started) / 1000)),
      );
    });
  return { call, close: () => client.close() };
}

async function measureLoop(n: number, fn: () => Promise<unknown>) {
  for (let i = 0; i < 200; i++) await fn(); // warm up
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { perSecond: n / seconds, cpuMsPerCall: (cpu.user + cpu.system) / 1000 / n };
}

export async function probeCost(report: Report, quick: boolean): Promise<ProbeCostFigures> {
  const target = await startTargetChild();
  const pulse = pulseProbe(target.address, { message: 'bench' });
  const bare = bareCall(target.address, { message: 'bench' });
  const n = quick ? 500 : 5000;
  // Interleaved rounds, so warm-up, GC and machine noise fall on both alike; the best round counts.
  const pulseRounds: Awaited<ReturnType<typeof measureLoop>>[] = [];
  const bareRounds: Awaited<ReturnType<typeof measureLoop>>[] = [];
  for (let round = 0; round < 3; round++) {
    pulseRounds.push(await measureLoop(n, pulse.attempt));
    bareRounds.push(await measureLoop(n, bare.call));
  }
  /** The fastest round's rate and the lowest CPU per call seen: the least disturbed figures. */
  const best = (runs: typeof pulseRounds) => ({
    perSecond: Math.max(...runs.map((r) => r.perSecond)),
    cpuMsPerCall: Math.min(...runs.map((r) => r.cpuMsPerCall)),
  });
  const pulseRun = best(pulseRounds);
  const bareRun = best(bareRounds);

  const blackbox = await startBlackbox();
  const url = `${blackbox.url}/probe?module=grpc&target=${target.address}`;
  await getText(url);
  const bbN = quick ? 100 : 500;
  const before = procStats(blackbox.child.pid);
  const t0 = performance.now();
  for (let i = 0; i < bbN; i++) await getText(url);
  const bbSeconds = (performance.now() - t0) / 1000;
  const after = procStats(blackbox.child.pid);
  const bbCpuMs = ((after.cpuSeconds - before.cpuSeconds) * 1000) / bbN;

  // Latency fidelity: a known 5 ms server delay, calls interleaved.
  const slowPulse = pulseProbe(target.address, { message: 'x', delay_ms: 5 });
  const slowBare = bareCall(target.address, { message: 'x', delay_ms: 5 });
  const pulseLatency: number[] = [];
  const bareLatency: number[] = [];
  for (let i = 0; i < (quick ? 50 : 300); i++) {
    const seconds = await slowPulse.attempt();
    if (seconds !== undefined) pulseLatency.push(seconds * 1000);
    bareLatency.push((await slowBare.call()) * 1000);
  }
  for (const c of [pulse, bare, slowPulse, slowBare]) await c.close();
  await blackbox.child.stop();
  await target.child.stop();

  report.section('Probe cost (sequential unary calls to a target in another process)', [
    'Best of three interleaved rounds of each loop.',
    '',
    '| prober | calls/s | CPU per probe |',
    '|---|---|---|',
    `| grpc-pulse unary probe (call + expectations + recorders) | ${round(pulseRun.perSecond, 0)} | ${round(pulseRun.cpuMsPerCall, 3)} ms |`,
    `| bare grpc-js client loop (the ceiling) | ${round(bareRun.perSecond, 0)} | ${round(bareRun.cpuMsPerCall, 3)} ms |`,
    `| blackbox_exporter grpc module via /probe (health Check; exporter CPU only) | ${round(bbN / bbSeconds, 0)} | ${round(bbCpuMs, 3)} ms |`,
    '',
    `grpc-pulse reaches ${round((pulseRun.perSecond / bareRun.perSecond) * 100, 0)}% of the bare loop's throughput and uses ${round(pulseRun.cpuMsPerCall / bareRun.cpuMsPerCall, 2)}× its CPU per call; blackbox uses ${round(bbCpuMs / pulseRun.cpuMsPerCall, 1)}× grpc-pulse's CPU per probe.`,
  ]);
  const p50 = (v: number[]) => percentile(v, 50);
  report.section('Latency fidelity (server delay 5 ms)', [
    '| measurement | p50 | p99 |',
    '|---|---|---|',
    `| grpc-pulse grpc_probe_duration_seconds | ${round(p50(pulseLatency), 3)} ms | ${round(percentile(pulseLatency, 99), 3)} ms |`,
    `| bare grpc-js, same call | ${round(p50(bareLatency), 3)} ms | ${round(percentile(bareLatency, 99), 3)} ms |`,
    '',
    `Difference at p50: ${round(p50(pulseLatency) - p50(bareLatency), 3)} ms.`,
  ]);
  return {
    cpuMsPerProbe: pulseRun.cpuMsPerCall,
    bareCpuMsPerProbe: bareRun.cpuMsPerCall,
    blackboxCpuMsPerProbe: bbCpuMs,
    throughputShare: pulseRun.perSecond / bareRun.perSecond,
    latencyDiffMs: Math.abs(percentile(pulseLatency, 50) - percentile(bareLatency, 50)),
  };
}
