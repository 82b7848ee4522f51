// The health Check probe: one grpc.health.v1.Health/Check per interval, with the target's timeout as
// the deadline. Used for `mode: check` and as the fallback where Watch is UNIMPLEMENTED.

import { type Client, type Metadata, status as Status } from '@grpc/grpc-js';
import { callUnary } from './call.js';
import type { FailureEvidenceCollector } from './failure-evidence.js';
import { HEALTH_CHECK, toHealthStatus } from './health-protocol.js';
import { type HealthStatus, healthProbeName, type ProbeObserver } from './probe.js';
import { PeriodicTask } from './scheduler.js';

export interface HealthProbeContext {
  target: string;
  service: string;
  client: Client;
  metadata: () => Metadata;
  timeoutMs: number;
  intervalMs: number;
  observer: ProbeObserver;
  /** Classifies failed calls of this target, with what its channel did as evidence. */
  evidence: FailureEvidenceCollector;
}

/** Runs one Check and reports it to ctx.observer; resolves once reported. */
export async function checkOnce(ctx: HealthProbeContext, signal: AbortSignal): Promise<void> {
  const probe = healthProbeName(ctx.service);
  ctx.observer.attempt(ctx.target, probe);
  const outcome = await callUnary(
    ctx.client,
    HEALTH_CHECK,
    { service: ctx.service },
    { deadlineMs: ctx.timeoutMs, metadata: ctx.metadata(), signal },
  );
  if (outcome.kind === 'cancelled') return;
  let health: HealthStatus | undefined;
  if (outcome.kind === 'ok') health = toHealthStatus(outcome.response.status);
  // grpc.health.v1: Check answers NOT_FOUND for a service the server does not know.
  else if (outcome.code === Status.NOT_FOUND) health = 'SERVICE_UNKNOWN';
  if (health) ctx.observer.healthStatus(ctx.target, ctx.service, health);
  const code = outcome.kind === 'ok' ? Status.OK : outcome.code;
  const details = outcome.kind === 'ok' ? '' : outcome.details;
  const call = outcome.kind === 'error' ? { call: outcome.evidence, unary: true } : {};
  if (health === 'SERVING') {
    ctx.observer.result(ctx.target, probe, { success: true, code, durationSeconds: outcome.durationSeconds });
  } else {
    const reason = await ctx.evidence.classify({ code, details, healthStatus: health, ...call });
    ctx.observer.result(ctx.target, probe, {
      success: false,
      reason,
      code,
      details: details || `health status ${health}`,
      durationSeconds: outcome.durationSeconds,
    });
  }
}

/** A periodic Check probe for one (target, service). */
export class HealthCheckProbe {
  readonly #task: PeriodicTask;

  constructor(ctx: HealthProbeContext) {
    this.#task = new PeriodicTask((signal) => checkOnce(ctx, signal), { intervalMs: ctx.intervalMs });
  }

  start(): void {
    this.#task.start();
  }

  close(): Promise<void> {
    return this.#task.close();
  }
}
