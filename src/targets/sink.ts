// The sink port: where a running target reports. Targets know this interface only, never the concrete
// recorders or the status store; the composition root (app.ts) fans one sink out to all of them.

import type { ConnectionObserver } from '../connection/watcher.js';
import type { TargetPlan } from '../probes/plan.js';
import type { ProbeObserver, ProbeSpec } from '../probes/probe.js';
import type { MethodTable } from '../util/fan-out.js';
import type { DiscoveryStatus } from './backend-discovery.js';

/** Everything a target reports: its arrival and departure, its probes' events, its connection's. */
export interface TargetSink extends ProbeObserver, ConnectionObserver {
  /** A target starts: create its series (zeroed) and its status entry from the plan, before any event. */
  addTarget(plan: TargetPlan): void;
  /** A target left the config: drop everything it had. Late events of it are ignored. */
  removeTarget(name: string): void;
  /** A probe found at run time (health List discovery) joins a running target. */
  addProbe(target: string, probe: ProbeSpec): void;
  /** A probe found at run time went away: drop its series. */
  removeProbe(target: string, probe: ProbeSpec): void;
  /** A fan-out target resolved its name again (or failed to): how its backend set stands. */
  resolution(target: string, status: DiscoveryStatus): void;
}

/** Every method of TargetSink, for fanOut(); a method added to the interface must be added here. */
export const TARGET_SINK_METHODS: MethodTable<TargetSink> = {
  addTarget: true,
  removeTarget: true,
  addProbe: true,
  removeProbe: true,
  resolution: true,
  attempt: true,
  result: true,
  healthStatus: true,
  watchUp: true,
  channelState: true,
  connectAttempt: true,
  disconnect: true,
  tlsCertExpiry: true,
};
