// What a human reads on the status page and /api/v1/targets: per target the health statuses and, per
// probe, the last verdict with its raw details, plus the most recent failures. Raw text lives here and
// in logs, never in labels. Bounded: a fixed number of failures per target.

import type { DisconnectReason, FailureReason } from '../connection/reasons.js';
import type { ChannelState, ConnectionObserver } from '../connection/watcher.js';
import type { HealthStatus, ProbeObserver, ProbeResult } from '../probes/probe.js';
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

export class StatusStore implements ProbeObserver, ConnectionObserver {
  readonly #targets = new Map<string, TargetStatus>();

  addTarget(
    name: string,
    address: string,
    probes: string[],
    health: { service: string; watch: boolean }[],
  ): void {
    this.#targets.set(name, {
      name,
      address,
      health: Object.fromEntries(
        health.map((h) => [
          h.service,
          { status: 'UNKNOWN' as HealthStatus, watchUp: h.watch ? false : null },
        ]),
      ),
      channelState: 'IDLE',
      probes: Object.fromEntries(probes.map((p) => [p, { success: false }])),
      recentFailures: [],
      recentDisconnects: [],
    });
  }

  removeTarget(name: string): void {
    this.#targets.delete(name);
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
