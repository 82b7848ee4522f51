// What a human reads on the status page and /api/v1/targets: per target the health statuses and, per
// probe, the last verdict with its raw details, plus the most recent failures. Raw text lives here and
// in logs, never in labels. Bounded: a fixed number of failures per target.

import type { ChannelState } from '../outcome/channel-states.js';
import type { DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { HealthStatus } from '../outcome/health-statuses.js';
import type { ProbeResult } from '../outcome/probe-result.js';
import type { TargetPlan } from '../probes/plan.js';
import type { ProbeSpec } from '../probes/probe.js';
import type { TargetSink } from '../targets/sink.js';
import { grpcCodeLabel } from '../util/grpc-codes.js';

const RECENT_EVENTS = 20;
/** Details are cut here: enough to diagnose, bounded in memory and on the page. */
const MAX_DETAILS = 500;

export interface FailureRecord {
  time: string;
  probe: string;
  reason: FailureReason;
  grpcCode?: string;
  details: string;
}

export interface DisconnectRecord {
  time: string;
  reason: DisconnectReason;
  details: string;
}

export interface ProbeStatus {
  success: boolean;
  lastResultTime?: string;
  lastSuccessTime?: string;
  lastReason?: FailureReason;
  lastDetails?: string;
}

export interface HealthView {
  status: HealthStatus;
  /** null when the service is checked rather than watched. */
  watchUp: boolean | null;
}

export interface TargetStatus {
  name: string;
  address: string;
  channelState: ChannelState;
  /** Expiry of the server certificate seen on the last TLS connection. */
  tlsCertExpiry?: string;
  health: Record<string, HealthView>;
  probes: Record<string, ProbeStatus>;
  recentFailures: FailureRecord[];
  recentDisconnects: DisconnectRecord[];
}

function truncate(text: string): string {
  return text.length > MAX_DETAILS ? `${text.slice(0, MAX_DETAILS)}…` : text;
}

/** Fan-out backends and resolutions are kept by BackendStatusBook (backend-status.ts). */
export class StatusStore implements Omit<TargetSink, 'resolution'> {
  readonly #targets = new Map<string, TargetStatus>();

  addTarget(plan: TargetPlan): void {
    // One backend of a fan-out target: BackendStatusBook's, and events under its key find no entry here.
    if (plan.backend !== undefined) return;
    this.#targets.set(plan.name, {
      name: plan.name,
      address: plan.address,
      health: {},
      channelState: 'IDLE',
      probes: {},
      recentFailures: [],
      recentDisconnects: [],
    });
    // A fan-out target's probes run per backend: their verdicts are in its `backends`.
    if (plan.fanOut) return;
    for (const probe of plan.probes) this.addProbe(plan.name, probe);
  }

  removeTarget(name: string): void {
    this.#targets.delete(name);
  }

  addProbe(target: string, probe: ProbeSpec): void {
    const t = this.#targets.get(target);
    if (!t) return;
    t.probes[probe.name] = { success: false };
    if (probe.health) {
      t.health[probe.health.service] = { status: 'UNKNOWN', watchUp: probe.health.watch ? false : null };
    }
  }

  removeProbe(target: string, probe: ProbeSpec): void {
    const t = this.#targets.get(target);
    if (!t) return;
    delete t.probes[probe.name];
    if (probe.health) delete t.health[probe.health.service];
  }

  /** A copy that callers may serialise or keep. */
  snapshot(): TargetStatus[] {
    return structuredClone([...this.#targets.values()]);
  }

  attempt(): void {}

  result(target: string, probe: string, result: ProbeResult): void {
    const t = this.#targets.get(target);
    if (!t) return;
    const now = new Date().toISOString();
    const status: ProbeStatus = { ...t.probes[probe], success: result.success, lastResultTime: now };
    if (result.success) {
      status.lastSuccessTime = now;
      delete status.lastReason;
      delete status.lastDetails;
    } else {
      status.lastReason = result.reason ?? 'unknown';
      status.lastDetails = truncate(result.details ?? '');
      t.recentFailures.unshift({
        time: now,
        probe,
        reason: status.lastReason,
        ...(result.code !== undefined ? { grpcCode: grpcCodeLabel(result.code) } : {}),
        details: status.lastDetails,
      });
      t.recentFailures.length = Math.min(t.recentFailures.length, RECENT_EVENTS);
    }
    t.probes[probe] = status;
  }

  healthStatus(target: string, service: string, status: HealthStatus): void {
    const view = this.#targets.get(target)?.health[service];
    if (view) view.status = status;
  }

  watchUp(target: string, service: string, up: boolean | undefined): void {
    const view = this.#targets.get(target)?.health[service];
    if (view) view.watchUp = up ?? null;
  }

  channelState(target: string, state: ChannelState): void {
    const t = this.#targets.get(target);
    if (t) t.channelState = state;
  }

  connectAttempt(): void {}

  disconnect(target: string, reason: DisconnectReason, details: string): void {
    const t = this.#targets.get(target);
    if (!t) return;
    t.recentDisconnects.unshift({ time: new Date().toISOString(), reason, details: truncate(details) });
    t.recentDisconnects.length = Math.min(t.recentDisconnects.length, RECENT_EVENTS);
  }

  tlsCertExpiry(target: string, unixSeconds: number): void {
    const t = this.#targets.get(target);
    if (t) t.tlsCertExpiry = new Date(unixSeconds * 1000).toISOString();
  }
}
