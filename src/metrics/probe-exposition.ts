// The exposition of one /probe result (blackbox_exporter's multi-target pattern): a fresh registry per
// request, holding only that probe's result, so Prometheus' `target`/`instance` relabeling applies.

import { Gauge, Registry } from 'prom-client';
import { FAILURE_REASONS } from '../outcome/failure-reasons.js';
import { HEALTH_STATUSES } from '../outcome/health-statuses.js';
import type { OneShotResult } from '../outcome/probe-result.js';

export async function renderProbeResult({ result, healthStatus }: OneShotResult, seconds: number) {
  const registry = new Registry();
  const registers = [registry];
  new Gauge({ name: 'probe_success', help: 'Whether the probe succeeded.', registers }).set(
    result.success ? 1 : 0,
  );
  new Gauge({ name: 'probe_duration_seconds', help: 'How long the probe took, in seconds.', registers }).set(
    seconds,
  );
  if (result.code !== undefined) {
    new Gauge({ name: 'probe_grpc_status_code', help: 'gRPC status code of the call.', registers }).set(
      result.code,
    );
  }
  if (healthStatus !== undefined) {
    const gauge = new Gauge({
      name: 'probe_grpc_healthcheck_response',
      help: 'Health status of the service, one-hot over serving_status.',
      labelNames: ['serving_status'],
      registers,
    });
    for (const status of HEALTH_STATUSES)
      gauge.set({ serving_status: status }, status === healthStatus ? 1 : 0);
  }
  const failure = new Gauge({
    name: 'grpc_probe_failure_reason',
    help: 'Why the probe failed: 1 for the classified reason, 0 for the others.',
    labelNames: ['reason'],
    registers,
  });
  for (const reason of FAILURE_REASONS)
    failure.set({ reason }, !result.success && result.reason === reason ? 1 : 0);
  return { contentType: registry.contentType, body: await registry.metrics() };
}
