// The probe shape end to end, on a real grpc-js server: a plan's probes run on one TargetRunner and
// report through the fanned-out sink to the real recorders and status store; a probe that discovers
// others at run time (as a health List probe will) adds and removes them through ctx.children.

import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { ConnectionRecorder } from '../src/metrics/connection-recorder.js';
import { MetricTable } from '../src/metrics/metric-table.js';
import { METRICS } from '../src/metrics/names.js';
import { ProbeRecorder } from '../src/metrics/probe-recorder.js';
import { healthCheckProbe } from '../src/probes/health-check.js';
import { planTarget, type TargetPlan } from '../src/probes/plan.js';
import type { PlannedProbe, ProbeContext } from '../src/probes/probe.js';
import { StatusStore } from '../src/status/status-store.js';
import { channelSpec } from '../src/targets/channel.js';
import { TARGET_SINK_METHODS, type TargetSink } from '../src/targets/sink.js';
import { TargetRunner } from '../src/targets/target-runner.js';
import { fanOut } from '../src/util/fan-out.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { sampleValue } from './harness/prom-text.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function targetConfig(address: string) {
  const text = `targets:
  - name: api
    address: "${address}"
    interval: 200ms
    timeout: 150ms
    health:
      - service: ""
        mode: watch
      - service: orders
        mode: check
`;
  const target = parseConfigText(text, 'shape.yaml', { baseDir: process.cwd(), env: {} }).targets[0];
  if (!target) throw new Error('no target');
  return target;
}

async function runnerOn(plan: TargetPlan, target: ReturnType<typeof targetConfig>) {
  const table = new MetricTable();
  const status = new StatusStore();
  const sink = fanOut<TargetSink>(
    [new ProbeRecorder(table), new ConnectionRecorder(table), status],
    TARGET_SINK_METHODS,
  );
  sink.addTarget(plan);
  const runner = new TargetRunner({
    plan,
    channel: channelSpec(target),
    startupGraceMs: 0,
    sink,
    log: createLogger('silent'),
  });
  cleanup.push(() => runner.close());
  runner.start();
  return { runner, metrics: () => table.render(), status };
}

describe('probe shape', () => {
  it('runs what the plan names, and once() answers for any of them without recording', async () => {
    const server = await new GrpcTarget({ health: { '': 'SERVING', orders: 'NOT_SERVING' } }).start();
    cleanup.push(() => server.stop());
    const target = targetConfig(server.address);
    const plan = planTarget(target);
    expect(plan.probes.map((p) => [p.name, p.kind, p.timeoutMs])).toEqual([
      ['health', 'health_watch', 150],
      ['health:orders', 'health_check', 150],
    ]);
    const { runner, metrics } = await runnerOn(plan, target);
    expect(runner.probeNames).toEqual(['health', 'health:orders']);
    const attempts = (probe: string) =>
      sampleValue(metrics(), METRICS.probeAttempts, { target: 'api', probe }) ?? -1;
    await waitFor(
      () => attempts('health:orders'),
      (n) => n >= 2,
      { timeoutMs: 10_000, what: 'checks' },
    );
    await waitFor(
      () => sampleValue(metrics(), METRICS.healthWatchUp, { target: 'api', health_service: '' }),
      (v) => v === 1,
      { timeoutMs: 10_000, what: 'the Watch stream to open' },
    );
    const before = attempts('health');
    const shot = await runner.probe('health:orders')?.once(1000, new AbortController().signal);
    expect(shot?.healthStatus).toBe('NOT_SERVING');
    expect(shot?.result).toMatchObject({ success: false, reason: 'not_serving', code: 0 });
    const watchShot = await runner.probe('health')?.once(1000, new AbortController().signal);
    expect(watchShot).toMatchObject({ healthStatus: 'SERVING', result: { success: true } });
    // once() is outside the schedule: the Watch stream's attempt count did not move.
    expect(attempts('health')).toBe(before);
    expect(runner.probe('nope')).toBeUndefined();
  });

  it('a probe adds and removes probes at run time; their series come and go with them', async () => {
    const server = await new GrpcTarget({ health: { '': 'SERVING', billing: 'SERVING' } }).start();
    cleanup.push(() => server.stop());
    const target = targetConfig(server.address);
    let ctx: ProbeContext | undefined;
    // A stand-in for a discovery probe: it only keeps its context, to add children from the test.
    const discovery: PlannedProbe = {
      name: 'discovery',
      kind: 'health_check',
      timeoutMs: 100,
      create: (given) => {
        ctx = given;
        return {
          name: 'discovery',
          kind: 'health_check',
          timeoutMs: 100,
          start: () => {},
          close: async () => {},
          once: async () => undefined,
        };
      },
    };
    const base = planTarget({ ...target, health: [] });
    const plan = { ...base, probes: [discovery] };
    const { runner, metrics, status } = await runnerOn(plan, target);
    if (!ctx) throw new Error('the runner did not create the planned probe');
    const child = healthCheckProbe(target, { service: 'billing', mode: 'check' });
    ctx.children.add(child);
    ctx.children.add(child); // a second add of the same name is ignored
    expect(runner.probeNames).toEqual(['discovery', 'health:billing']);
    await waitFor(
      () => sampleValue(metrics(), METRICS.probeSuccess, { target: 'api', probe: 'health:billing' }),
      (v) => v === 1,
      { timeoutMs: 10_000, what: 'the added probe to succeed' },
    );
    expect(
      sampleValue(metrics(), METRICS.healthStatus, {
        target: 'api',
        health_service: 'billing',
        status: 'SERVING',
      }),
    ).toBe(1);
    expect(status.snapshot()[0]?.probes['health:billing']?.success).toBe(true);
    await ctx.children.remove('health:billing');
    await ctx.children.remove('discovery'); // a planned probe is not the children's to remove
    expect(runner.probeNames).toEqual(['discovery']);
    const text = metrics();
    expect(text).not.toContain('probe="health:billing"');
    expect(text).not.toContain('health_service="billing"');
    expect(status.snapshot()[0]?.probes).toEqual({ discovery: { success: false, history: [] } });
    expect(status.snapshot()[0]?.health).toEqual({});
  });
});
