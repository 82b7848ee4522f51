// The plan: a pure function from a target's config to the probes it runs. Nothing here does I/O; the
// plan tells the sink which series to create and /probe which modules exist, and TargetRunner builds
// each planned probe on the target's channel. A new probe kind adds one line below.

import type { TargetConfig } from '../config/schema.js';
import { healthCheckProbe } from './health-check.js';
import { healthListProbe } from './health-list.js';
import { healthWatchProbe } from './health-watch.js';
import type { PlannedProbe } from './probe.js';
import { streamProbe } from './stream.js';
import { unaryProbe } from './unary.js';

/** What runs for one target, as data: its identity and its probes, in a fixed order. */
export interface TargetPlan {
  /** The `target` label. */
  readonly name: string;
  /**
   * What the runner's events are reported under and the sink removes: the name, or `name/backend`
   * for one backend of a fan-out target (names cannot hold a "/", so keys never collide).
   */
  readonly key: string;
  readonly address: string;
  /** The `backend` label (`ip:port`): set on the plan of one backend of a fan-out target. */
  readonly backend?: string;
  /** Set on a fan-out target's own plan: its probes run once per backend, under backend plans. */
  readonly fanOut?: true;
  readonly probes: readonly PlannedProbe[];
}

/** The plan one backend of a fan-out target runs: the target's probes, reported under its own key. */
export function backendPlan(target: TargetPlan, backend: string): TargetPlan {
  return {
    name: target.name,
    key: `${target.name}/${backend}`,
    address: backend,
    backend,
    probes: target.probes,
  };
}

export function planTarget(config: TargetConfig): TargetPlan {
  return {
    name: config.name,
    key: config.name,
    address: config.address,
    ...(config.fanOut ? { fanOut: true as const } : {}),
    probes: [
      ...config.health.map((h) =>
        'discover' in h
          ? healthListProbe(config)
          : (h.mode === 'watch' ? healthWatchProbe : healthCheckProbe)(config, h),
      ),
      ...config.rpcs.map((rpc) =>
        rpc.stream ? streamProbe(config, rpc, rpc.stream) : unaryProbe(config, rpc),
      ),
    ],
  };
}
