// Runs the fault matrix through both doors of the classifier: one daemon probing every fault as a
// target (reasons read back from /metrics), and `grpc-pulse check` in-process against each fault that
// a single call can meet. Returns one verdict per fault and door; the caller prints and judges them.

import { Writable } from 'node:stream';
import { runCheck } from '../../src/check/health-check-command.js';
import type { FailureReason } from '../../src/outcome/failure-reasons.js';
import { parseSamples } from '../harness/prom-text.js';
import { RunningApp, testConfig } from '../harness/running-app.js';
import type { Fault, FaultEnv, RunningFault } from './catalog.js';

export interface Verdict {
  fault: Fault;
  door: 'daemon' | 'check';
  /** Every reason seen (daemon: failures by reason; check: the one verdict). */
  got: Record<string, number>;
  right: boolean;
  /** Right, but not every failure had the expected reason. */
  mixed?: boolean;
  details: string;
}

/** Failures a daemon target must have seen before it is judged (more than one: a verdict must hold). */
const MIN_FAILURES = 4;
const DAEMON_BUDGET_MS = 60_000;
const SETTLE_MS = 8000;
/**
 * Share of a daemon target's failures that must carry the expected reason. Two thirds, not more: a TCP
 * RST under a live call races grpc-js's transport trace against its state change, and on a loaded
 * machine up to a quarter of those failures read `connection_closed` (see the closing note of issue 11).
 */
const MOSTLY = 2 / 3;
const CHECK_CONCURRENCY = 6;

function targetYaml(fault: Fault, run: RunningFault): string {
  const mode = fault.mode ?? 'check';
  return (
    `  - name: ${fault.name}\n    address: "${run.address}"\n    interval: 4s\n    timeout: 3s\n` +
    run.tlsYaml +
    `    health: [ { service: "${fault.service ?? ''}", mode: ${mode} } ]\n`
  );
}

async function daemonDoor(faults: Fault[], runs: Map<string, RunningFault>): Promise<Verdict[]> {
  const yaml = testConfig(faults.map((f) => targetYaml(f, runs.get(f.name) as RunningFault)).join(''));
  const app = await new RunningApp(yaml).start();
  try {
    const read = async () => {
      const byTarget = new Map<string, Record<string, number>>();
      for (const s of parseSamples(await app.metricsText())) {
        if (s.name !== 'grpc_probe_failures_total' || s.value <= 0) continue;
        const target = s.labels.target ?? '';
        const reasons = byTarget.get(target) ?? {};
        reasons[s.labels.reason ?? ''] = s.value;
        byTarget.set(target, reasons);
      }
      return byTarget;
    };
    // The first round meets a machine busy starting every target at once (timers fire late); judge
    // what each target sees after it, unless that is nothing.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const baseline = await read();
    const deadline = performance.now() + DAEMON_BUDGET_MS;
    const byTarget = new Map<string, Record<string, number>>();
    for (;;) {
      const now = await read();
      byTarget.clear();
      for (const fault of faults) {
        const total = now.get(fault.name) ?? {};
        const before = baseline.get(fault.name) ?? {};
        const delta: Record<string, number> = {};
        for (const [reason, n] of Object.entries(total))
          if (n - (before[reason] ?? 0) > 0) delta[reason] = n - (before[reason] ?? 0);
        byTarget.set(fault.name, Object.keys(delta).length > 0 ? delta : total);
      }
      const count = (name: string) => Object.values(byTarget.get(name) ?? {}).reduce((a, b) => a + b, 0);
      if (faults.every((f) => count(f.name) >= MIN_FAILURES) || performance.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const api = (await app.app.server.inject({ method: 'GET', url: '/api/v1/targets' })).json() as {
      targets: { name: string; recentFailures: { reason: string; details: string }[] }[];
    };
    return faults.map((fault) => {
      const got = byTarget.get(fault.name) ?? {};
      const failures = api.targets.find((t) => t.name === fault.name)?.recentFailures ?? [];
      const wrong = failures.find((f) => f.reason !== fault.expected) ?? failures[0];
      const total = Object.values(got).reduce((a, b) => a + b, 0);
      const expected = got[fault.expected] ?? 0;
      return {
        fault,
        door: 'daemon' as const,
        got,
        // Every failure, or all but a rare one (a race between grpc-js's trace and its state change):
        // such mixed verdicts count as right and are listed apart, so they stay visible.
        right: expected === total || (total >= MIN_FAILURES && expected / total >= MOSTLY),
        mixed: expected !== total,
        details: wrong ? `${wrong.reason}: ${wrong.details}` : 'no failure recorded',
      };
    });
  } finally {
    await app.close();
  }
}

class Capture extends Writable {
  text = '';
  override _write(chunk: unknown, _encoding: string, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

/** The reason `check` gave: exit 4 is not_serving; otherwise the reason named on stderr. */
export function checkReason(code: number, stderr: string): FailureReason | 'ok' | 'none' {
  if (code === 0) return 'ok';
  if (code === 4) return 'not_serving';
  const named =
    /\(reason: ([a-z_]+)\)/.exec(stderr) ??
    /(?:connection failure|health rpc failed): ([a-z_]+):/.exec(stderr);
  return (named?.[1] as FailureReason | undefined) ?? 'none';
}

async function checkOne(fault: Fault, run: RunningFault): Promise<Verdict> {
  const out = new Capture();
  const err = new Capture();
  const args = [
    '--addr',
    run.address,
    '--service',
    fault.service ?? '',
    ...run.checkArgs.map((a) => (a.startsWith('-') ? `-${a}` : a)),
  ];
  const code = await runCheck(args, out, err);
  const reason = checkReason(code, err.text + out.text);
  return {
    fault,
    door: 'check',
    got: { [reason]: 1 },
    right: reason === fault.expected,
    details: `exit ${code}: ${(err.text + out.text).trim().slice(0, 300)}`,
  };
}

async function checkDoor(faults: Fault[], runs: Map<string, RunningFault>): Promise<Verdict[]> {
  const pending = faults.filter((f) => !f.daemonOnly);
  const verdicts: Verdict[] = [];
  for (let i = 0; i < pending.length; i += CHECK_CONCURRENCY) {
    const batch = pending.slice(i, i + CHECK_CONCURRENCY);
    verdicts.push(...(await Promise.all(batch.map((f) => checkOne(f, runs.get(f.name) as RunningFault)))));
  }
  return verdicts;
}

/** Starts every fault, runs both doors, closes every fault. */
export async function runMatrix(faults: Fault[], env: FaultEnv): Promise<Verdict[]> {
  const runs = new Map<string, RunningFault>();
  try {
    const ordered = [...faults.filter((f) => !f.startLast), ...faults.filter((f) => f.startLast)];
    for (const fault of ordered) runs.set(fault.name, await fault.start(env));
    const checks = await checkDoor(faults, runs);
    const daemon = await daemonDoor(faults, runs);
    return [...daemon, ...checks];
  } finally {
    for (const run of runs.values()) await run.close().catch(() => {});
  }
}

/** The report `npm run faults` prints: share right per door, then every miss. */
export function formatReport(verdicts: Verdict[]): string {
  const lines: string[] = [];
  for (const door of ['daemon', 'check'] as const) {
    const of = verdicts.filter((v) => v.door === door);
    const right = of.filter((v) => v.right).length;
    lines.push(
      `${door}: ${right}/${of.length} right (${((100 * right) / Math.max(1, of.length)).toFixed(1)}%)`,
    );
  }
  const all = verdicts.length;
  const right = verdicts.filter((v) => v.right).length;
  lines.push(`all: ${right}/${all} right (${((100 * right) / Math.max(1, all)).toFixed(1)}%)`);
  const misses = verdicts.filter((v) => !v.right);
  const mixed = verdicts.filter((v) => v.right && v.mixed);
  if (misses.length > 0) lines.push('misses:');
  for (const v of [...misses, ...mixed]) {
    if (v === mixed[0]) lines.push('right, with a stray failure:');
    const got = Object.entries(v.got)
      .map(([r, n]) => `${r}×${n}`)
      .join(' ');
    lines.push(
      `  [${v.door}] ${v.fault.name} (${v.fault.family}): expected ${v.fault.expected}, got ${got || 'nothing'} — ${v.details}`,
    );
  }
  return lines.join('\n');
}
