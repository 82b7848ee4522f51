// The running targets, reconciled by key on every (re)load: a target whose config did not change keeps
// its runner (channel, streams) and its series; a removed one is closed and its series removed; a
// changed one is replaced; a new one starts. cloudprober's probes/common/sched refresh, for targets.

import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { TargetConfig } from '../config/schema.js';
import { Secret } from '../config/secret.js';
import type { ConnectionObserver } from '../connection/watcher.js';
import type { ConnectionRecorder } from '../metrics/connection-recorder.js';
import type { ProbeRecorder } from '../metrics/probe-recorder.js';
import type { ProbeObserver } from '../probes/probe.js';
import type { StatusStore } from '../status/status-store.js';
import { TargetRunner } from './target-runner.js';

export interface TargetSetDeps {
  observer: ProbeObserver;
  connectionObserver: ConnectionObserver;
  probeRecorder: ProbeRecorder;
  connectionRecorder: ConnectionRecorder;
  status: StatusStore;
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

export interface ReconcileSummary {
  added: string[];
  removed: string[];
  changed: string[];
  unchanged: string[];
}

export class TargetSet {
  readonly #deps: TargetSetDeps;
  readonly #running = new Map<string, { runner: TargetRunner; fingerprint: string }>();

  constructor(deps: TargetSetDeps) {
    this.#deps = deps;
  }

  get(name: string): TargetRunner | undefined {
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
      closing.push(current.runner.close().then(() => this.#forget(name)));
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
    const { probeRecorder, connectionRecorder, status, observer, connectionObserver, log } = this.#deps;
    const probes = TargetRunner.probeNames(target);
    probeRecorder.addTarget({
      name: target.name,
      probes,
      healthServices: target.health.map((h) => h.service),
      watchServices: target.health.filter((h) => h.mode === 'watch').map((h) => h.service),
    });
    connectionRecorder.addTarget(target.name);
    status.addTarget(
      target.name,
      target.address,
      probes,
      target.health.map((h) => ({ service: h.service, watch: h.mode === 'watch' })),
    );
    const runner = new TargetRunner(target, observer, connectionObserver, log);
    this.#running.set(target.name, { runner, fingerprint });
    runner.start();
  }

  #forget(name: string): void {
    this.#deps.probeRecorder.removeTarget(name);
    this.#deps.connectionRecorder.removeTarget(name);
    this.#deps.status.removeTarget(name);
  }
}
