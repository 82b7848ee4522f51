// The running targets, reconciled by key on every (re)load: a target whose config did not change keeps
// its runner (channel, streams) and its series; a removed one is closed and its series removed; a
// changed one is replaced; a new one starts. cloudprober's probes/common/sched refresh, for targets.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { TargetConfig } from '../config/schema.js';
import { Secret } from '../config/secret.js';
import { planTarget, type TargetPlan } from '../probes/plan.js';
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

/**
 * A digest of everything a runner is built from, secrets included (as a hash of their values).
 * The replacer reads the holder's own value (`this[key]`): `value` is what Secret.toJSON() already
 * turned into "<redacted>", which would make a rotated secret look unchanged.
 */
export function targetFingerprint(target: TargetConfig): string {
  const json = JSON.stringify(target, function (this: Record<string, unknown>, key, value: unknown) {
    const own = this[key];
    return own instanceof Secret ? `secret:${own.source}:${own.digest()}` : value;
  });
  return createHash('sha256').update(json).digest('hex');
}

/**
 * Targets built, closed or started between two turns of the event loop: a reconcile of thousands
 * of targets then never holds /metrics or a probe for longer than one batch (bench/reload-cost.ts).
 */
const BATCH = 100;
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Running {
  runner: RunningTarget;
  fingerprint: string;
  config: TargetConfig;
  plan: TargetPlan;
}

/** A new or changed target that grpc-js refused to build; the running set was not touched. */
export class TargetPrepareError extends Error {
  constructor(target: string, cause: unknown) {
    super(
      `target "${target}" could not be prepared: ${cause instanceof Error ? cause.message : String(cause)}`,
    );
    this.name = 'TargetPrepareError';
  }
}

export interface ReconcileSummary {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export class TargetSet {
  readonly #deps: TargetSetDeps;
  readonly #running = new Map<string, Running>();

  constructor(deps: TargetSetDeps) {
    this.#deps = deps;
  }

  get(name: string): RunningTarget | undefined {
    return this.#running.get(name)?.runner;
  }

  /**
   * Makes the running set equal `desired`, as one transaction: every new or changed target is
   * prepared first (channel, credentials, metadata: what grpc-js may refuse); if any fails, the
   * prepared ones are dropped and the running set is left exactly as it was (TargetPrepareError).
   * Only then are removed and changed targets closed, before their successors start, so a name can
   * be reused.
   */
  async apply(desired: readonly TargetConfig[]): Promise<ReconcileSummary> {
    const summary: ReconcileSummary = { added: [], removed: [], changed: [], unchanged: [] };
    const wanted = new Map(desired.map((t) => [t.name, { config: t, fingerprint: targetFingerprint(t) }]));
    for (const [name, current] of this.#running) {
      const next = wanted.get(name);
      if (!next) summary.removed.push(name);
      else if (next.fingerprint === current.fingerprint) summary.unchanged.push(name);
      else if (next.fingerprint === targetFingerprint(current.config)) {
        // Its from_file secret rotated in place since it started (secret-watcher.ts): nothing to do.
        current.fingerprint = next.fingerprint;
        summary.unchanged.push(name);
      } else summary.changed.push(name);
    }
    const prepared: Running[] = [];
    let count = 0;
    for (const [name, next] of wanted) {
      if (this.#running.get(name)?.fingerprint === next.fingerprint) continue;
      if (!this.#running.has(name)) summary.added.push(name);
      try {
        prepared.push(this.#prepare(next.config, next.fingerprint));
      } catch (err) {
        await Promise.all(prepared.map((p) => p.runner.close()));
        throw new TargetPrepareError(name, err);
      }
      if (++count % BATCH === 0) await yieldToLoop();
    }
    const leaving = [...summary.removed, ...summary.changed];
    for (let i = 0; i < leaving.length; i += BATCH) {
      await Promise.all(
        leaving.slice(i, i + BATCH).map(async (name) => {
          const current = this.#running.get(name);
          this.#running.delete(name);
          await current?.runner.close();
          if (current?.runner instanceof FanOutRunner) current.runner.forget();
          this.#deps.sink.removeTarget(name);
        }),
      );
      await yieldToLoop();
    }
    for (const [i, next] of prepared.entries()) {
      this.#deps.sink.addTarget(next.plan);
      this.#running.set(next.config.name, next);
      next.runner.start();
      if ((i + 1) % BATCH === 0) await yieldToLoop();
    }
    return summary;
  }

  /** The configs the running targets were started from (their Secret objects are the live ones). */
  configs(): TargetConfig[] {
    return [...this.#running.values()].map((r) => r.config);
  }

  /** Closes every runner (shutdown). Series stay, so a last scrape still sees them. */
  async close(): Promise<void> {
    const runners = [...this.#running.values()].map((r) => r.runner.close());
    this.#running.clear();
    await Promise.all(runners);
  }

  #prepare(target: TargetConfig, fingerprint: string): Running {
    const { sink, log } = this.#deps;
    if (target.fanOut) {
      const fanOut = new FanOutRunner({ config: target, sink, log });
      fanOut.prepare();
      return { runner: fanOut, fingerprint, config: target, plan: fanOut.plan };
    }
    const plan = planTarget(target);
    const runner = new TargetRunner({
      plan,
      channel: channelSpec(target),
      startupGraceMs: target.startupGraceMs,
      sink,
      log,
    });
    runner.prepare();
    return { runner, fingerprint, config: target, plan };
  }
}
