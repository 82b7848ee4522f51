// grpc_probe_backends{target,state}: how many of a fan-out target's backends are up and down (SPEC
// "Metrics"). A backend is up when the last verdict of each of its probes was a success. The per-probe
// series of each backend are ProbeRecorder's, under the backend's own labels.

import { type BACKEND_STATES, backendState } from '../outcome/backend-states.js';
import type { ProbeResult } from '../outcome/probe-result.js';
import type { TargetPlan } from '../probes/plan.js';
import type { ProbeSpec } from '../probes/probe.js';
import type { TargetSink } from '../targets/sink.js';
import type { MetricTable, ScalarFamily } from './metric-table.js';
import { METRICS } from './names.js';

type BackendSink = Pick<TargetSink, 'addTarget' | 'removeTarget' | 'addProbe' | 'removeProbe' | 'result'>;

interface FanOutTarget {
  cells: Record<(typeof BACKEND_STATES)[number], { value: number }>;
  /** Per backend key: the last verdict of each probe (undefined until its first). */
  backends: Map<string, Map<string, boolean | undefined>>;
}

export class BackendRecorder implements BackendSink {
  readonly #backendsGauge: ScalarFamily;
  /** Fan-out targets by name. */
  readonly #targets = new Map<string, FanOutTarget>();
  /** Backend plan key → the fan-out target it belongs to. */
  readonly #owners = new Map<string, FanOutTarget>();

  constructor(table: MetricTable) {
    this.#backendsGauge = table.gauge(
      METRICS.backends,
      'Backends of a fan-out target by verdict: up when every probe of the backend last succeeded.',
      ['target', 'state'],
    );
  }

  addTarget(plan: TargetPlan): void {
    if (plan.fanOut) {
      const cells = {
        up: this.#backendsGauge.cell({ target: plan.name, state: 'up' }),
        down: this.#backendsGauge.cell({ target: plan.name, state: 'down' }),
      };
      this.#targets.set(plan.name, { cells, backends: new Map() });
      return;
    }
    const owner = plan.backend === undefined ? undefined : this.#targets.get(plan.name);
    if (!owner) return;
    owner.backends.set(plan.key, new Map(plan.probes.map((p) => [p.name, undefined])));
    this.#owners.set(plan.key, owner);
    this.#count(owner);
  }

  removeTarget(key: string): void {
    const owner = this.#owners.get(key);
    if (owner) {
      this.#owners.delete(key);
      owner.backends.delete(key);
      this.#count(owner);
      return;
    }
    const target = this.#targets.get(key);
    if (!target) return;
    this.#targets.delete(key);
    this.#backendsGauge.removeTarget(key);
    for (const [backend, of] of this.#owners) if (of === target) this.#owners.delete(backend);
  }

  addProbe(key: string, probe: ProbeSpec): void {
    const owner = this.#owners.get(key);
    owner?.backends.get(key)?.set(probe.name, undefined);
    if (owner) this.#count(owner);
  }

  removeProbe(key: string, probe: ProbeSpec): void {
    const owner = this.#owners.get(key);
    owner?.backends.get(key)?.delete(probe.name);
    if (owner) this.#count(owner);
  }

  result(key: string, probe: string, result: ProbeResult): void {
    const owner = this.#owners.get(key);
    const verdicts = owner?.backends.get(key);
    if (!owner || !verdicts?.has(probe) || verdicts.get(probe) === result.success) return;
    verdicts.set(probe, result.success);
    this.#count(owner);
  }

  /** Recounts one target: O(backends × probes), at most max_backends × a few, on verdict changes only. */
  #count(target: FanOutTarget): void {
    let up = 0;
    for (const verdicts of target.backends.values()) if (backendState(verdicts.values()) === 'up') up += 1;
    target.cells.up.value = up;
    target.cells.down.value = target.backends.size - up;
  }
}
