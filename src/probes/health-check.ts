// The health Check probe: one grpc.health.v1.Health/Check per interval, with the target's timeout as
// the deadline. Used for `mode: check`, by /probe for every health probe, and by the Watch probe where
// Watch is UNIMPLEMENTED.

import { type Client, type Metadata, status as Status } from '@grpc/grpc-js';
import type { HealthConfig, TargetConfig } from '../config/schema.js';
import { type HealthStatus, toHealthStatus } from '../outcome/health-statuses.js';
import type { OneShotResult } from '../outcome/probe-result.js';
import { callUnary } from './call.js';
import type { FailureEvidenceCollector } from './failure-evidence.js';
import { HEALTH_CHECK } from './health-protocol.js';
import {
  healthProbeName,
  type PlannedProbe,
  type Probe,
  type ProbeContext,
  type ProbeObserver,
  type ProbeSpec,
} from './probe.js';
import { PeriodicTask } from './scheduler.js';

/** What one Check of one service needs. */
export interface HealthCallDeps {
  service: string;
  client: Client;
  metadata: () => Metadata;
  evidence: FailureEvidenceCollector;
}

/** Runs one Check and returns its verdict; undefined when it was cancelled. */
export async function checkHealth(
  deps: HealthCallDeps,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<OneShotResult | undefined> {
  const outcome = await callUnary(
    deps.client,
    HEALTH_CHECK,
    { service: deps.service },
    { deadlineMs: timeoutMs, metadata: deps.metadata(), signal },
  );
  if (outcome.kind === 'cancelled') return undefined;
  let health: HealthStatus | undefined;
  if (outcome.kind === 'ok') health = toHealthStatus(outcome.response.status);
  // grpc.health.v1: Check answers NOT_FOUND for a service the server does not know.
  else if (outcome.code === Status.NOT_FOUND) health = 'SERVICE_UNKNOWN';
  const withHealth = health ? { healthStatus: health } : {};
  const code = outcome.kind === 'ok' ? Status.OK : outcome.code;
  const details = outcome.kind === 'ok' ? '' : outcome.details;
  if (health === 'SERVING') {
    return { result: { success: true, code, durationSeconds: outcome.durationSeconds }, ...withHealth };
  }
  const call = outcome.kind === 'error' ? { call: outcome.evidence, unary: true } : {};
  const reason = await deps.evidence.classify({ code, details, healthStatus: health, ...call });
  return {
    result: {
      success: false,
      reason,
      code,
      details: details || `health status ${health}`,
      durationSeconds: outcome.durationSeconds,
    },
    ...withHealth,
  };
}

/** What a recorded Check needs besides the call: where and under which names it reports. */
export interface RecordedCheckDeps extends HealthCallDeps {
  target: string;
  probe: string;
  observer: ProbeObserver;
}

/** One recorded Check: the attempt, then the health answer (if any), then the verdict. */
export async function recordedCheck(
  deps: RecordedCheckDeps,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  deps.observer.attempt(deps.target, deps.probe);
  const shot = await checkHealth(deps, timeoutMs, signal);
  if (!shot) return;
  // A Check without an answer (server down, every Check timing out) says nothing of health: UNKNOWN,
  // never the last status seen.
  deps.observer.healthStatus(deps.target, deps.service, shot.healthStatus ?? 'UNKNOWN');
  deps.observer.result(deps.target, deps.probe, shot.result);
}

/** A periodic Check probe for one (target, service). */
export class HealthCheckProbe implements Probe {
  readonly name: string;
  readonly kind = 'health_check';
  readonly timeoutMs: number;
  readonly health: { service: string; watch: boolean };
  readonly #deps: RecordedCheckDeps;
  readonly #task: PeriodicTask;

  constructor(spec: ProbeSpec & { intervalMs: number; service: string }, ctx: ProbeContext) {
    this.name = spec.name;
    this.timeoutMs = spec.timeoutMs;
    this.health = { service: spec.service, watch: false };
    this.#deps = {
      ...healthCallDeps(spec.service, ctx),
      target: ctx.target,
      probe: spec.name,
      observer: ctx.observer,
    };
    this.#task = new PeriodicTask((signal) => recordedCheck(this.#deps, this.timeoutMs, signal), {
      intervalMs: spec.intervalMs,
    });
  }

  start(): void {
    this.#task.start();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  once(timeoutMs: number, signal: AbortSignal): Promise<OneShotResult | undefined> {
    return checkHealth(this.#deps, timeoutMs, signal);
  }
}

/** The Check deps of `service` on a running target (metadata built once, secrets revealed once). */
export function healthCallDeps(service: string, ctx: ProbeContext): HealthCallDeps {
  return { service, client: ctx.client, metadata: ctx.metadata(), evidence: ctx.evidence };
}

/** The plan entry of a `mode: check` health probe. */
export function healthCheckProbe(config: TargetConfig, health: HealthConfig): PlannedProbe {
  const spec = {
    name: healthProbeName(health.service),
    kind: 'health_check',
    timeoutMs: config.timeoutMs,
    health: { service: health.service, watch: false },
  } as const;
  return {
    ...spec,
    create: (ctx) =>
      new HealthCheckProbe({ ...spec, intervalMs: config.intervalMs, service: health.service }, ctx),
  };
}
