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
  readonly address: string;
  readonly probes: readonly PlannedProbe[];
}

export function planTarget(config: TargetConfig): TargetPlan {
  return {
    name: config.name,
    address: config.address,
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
