// The running targets, reconciled by key on every (re)load: a target whose config did not change keeps
// its runner (channel, streams) and its series; a removed one is closed and its series removed; a
// changed one is replaced; a new one starts. cloudprober's probes/common/sched refresh, for targets.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { TargetConfig } from '../config/schema.js';
import { Secret } from '../config/secret.js';
import { planTarget } from '../probes/plan.js';
import { channelSpec } from './channel.js';
import { FanOutRunner } from './fan-out-runner.js';
import type { TargetSink } from './sink.js';
import { TargetRunner } from './target-runner.js';

/** A running target: one runner, or a fan-out runner with one per backend. */
export type RunningTarget = TargetRunner | FanOutRunner;

export interface TargetSetDeps {
  /** Where every target reports (the recorders and the status store, fanned out). */
  sink: TargetSink;
  log: Logger;
}

/** A digest of everything a runner is built from, secrets included (as a hash, not in clear). */
export function targetFingerprint(target: TargetConfig): string {
  const json = JSON.stringify(target, (_key, value: unknown) =>
    value instanceof Secret ? `secret:${value.reveal()}` : value,
  );
  return createHash('sha256').update(json).digest('hex');
}

export interface ReconcileSummary {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export class TargetSet {
  readonly #deps: TargetSetDeps;
  readonly #running = new Map<string, { runner: RunningTarget; fingerprint: string }>();

  constructor(deps: TargetSetDeps) {
    this.#deps = deps;
  }

  get(name: string): RunningTarget | undefined {
    return this.#running.get(name)?.runner;
  }

  /** Makes the running set equal `desired`. Closing runs before starting, so names can be reused. */
  async apply(desired: readonly TargetConfig[]): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { added: [], removed: [], changed: [], unchanged: [] };
    const wanted = new Map(desired.map((t) => [t.name, { config: t, fingerprint: targetFingerprint(t) }]));
    const closing: Promise<void>[] = [];
    for (const [name, current] of this.#running) {
      const next = wanted.get(name);
      if (next && next.fingerprint === current.fingerprint) {
        summary.unchanged.push(name);
        continue;
      }
      (next ? summary.changed : summary.removed).push(name);
      this.#running.delete(name);
      closing.push(current.runner.close().then(() => this.#forget(name, current.runner)));
    }
    await Promise.all(closing);
    for (const [name, next] of wanted) {
      if (this.#running.has(name)) continue;
      if (!summary.changed.includes(name)) summary.added.push(name);
      this.#start(next.config, next.fingerprint);
    }
    return summary;
  }

  /** Closes every runner (shutdown). Series stay, so a last scrape still sees them. */
  async close(): Promise<void> {
    const runners = [...this.#running.values()].map((r) => r.runner.close());
    this.#running.clear();
    await Promise.all(runners);
  }

  #start(target: TargetConfig, fingerprint: string): void {
    const { sink, log } = this.#deps;
    if (target.fanOut) {
      const fanOut = new FanOutRunner({ config: target, sink, log });
      sink.addTarget(fanOut.plan);
      this.#running.set(target.name, { runner: fanOut, fingerprint });
      fanOut.start();
      return;
    }
    const plan = planTarget(target);
    sink.addTarget(plan);
    const runner = new TargetRunner({
      plan,
      channel: channelSpec(target),
      startupGraceMs: target.startupGraceMs,
      sink,
      log,
    });
    this.#running.set(target.name, { runner, fingerprint });
    runner.start();
  }

  #forget(name: string, runner: RunningTarget): void {
    if (runner instanceof FanOutRunner) runner.forget();
    this.#deps.sink.removeTarget(name);
  }
}
