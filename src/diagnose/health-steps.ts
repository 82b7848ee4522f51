// Steps "health-check", "health-watch", "health-list": grpc.health.v1 as the daemon uses it. Check
// decides the exit code (3 an RPC failed, 4 answered but not SERVING); Watch and List only inform:
// a server without Watch gets Check probes, one without List cannot be discovered.

import { type Client, type ServiceError, status as Status } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { toHealthStatus } from '../outcome/health-statuses.js';
import { callUnary, type UnaryMethod } from '../probes/call.js';
import { HEALTH_CHECK, HEALTH_WATCH } from '../probes/health-protocol.js';
import type { DiagnoseClient } from './grpc-client.js';
import { failed, skipped, step, stopwatch } from './step.js';
import type { StepResult } from './types.js';

interface ListResponse {
  statuses: Record<string, { status: string }>;
}
const HEALTH_LIST = healthService.List as unknown as UnaryMethod<Record<string, never>, ListResponse>;
/** Services named in the detail line of health-list. */
const MAX_LISTED = 20;

function label(service: string): string {
  return service === '' ? 'the server ("")' : `"${service}"`;
}

export async function healthCheckStep(
  c: DiagnoseClient,
  service: string,
  timeoutMs: number,
): Promise<StepResult> {
  const elapsed = stopwatch();
  const outcome = await callUnary(
    c.client,
    HEALTH_CHECK,
    { service },
    {
      deadlineMs: timeoutMs,
      metadata: c.metadata(),
      signal: new AbortController().signal,
    },
  );
  if (outcome.kind === 'ok') {
    const status = toHealthStatus(outcome.response.status);
    if (status === 'SERVING') return step('health-check', 'ok', elapsed(), `${label(service)} is SERVING`);
    return failed('health-check', elapsed(), `${label(service)} answered ${status}`, 'not_serving', {
      healthStatus: status,
    });
  }
  if (outcome.kind === 'cancelled') return failed('health-check', elapsed(), 'cancelled', 'rpc', 'unknown');
  // NOT_FOUND is the health service saying it does not know the name: SERVICE_UNKNOWN, as the daemon
  // counts it (not_serving).
  if (outcome.code === Status.NOT_FOUND) {
    return failed(
      'health-check',
      elapsed(),
      `${label(service)} is unknown to the server (NOT_FOUND: ${outcome.details})`,
      'not_serving',
      {
        healthStatus: 'SERVICE_UNKNOWN',
      },
    );
  }
  const result = failed(
    'health-check',
    elapsed(),
    `${Status[outcome.code] ?? outcome.code}: ${outcome.details}`,
    'rpc',
    { code: outcome.code, details: outcome.details, connected: true },
  );
  return outcome.code === Status.UNIMPLEMENTED
    ? {
        ...result,
        cause: 'the server does not register grpc.health.v1.Health',
        fix: 'register the standard health service (grpc-health-check, grpc.health.v1) and set its status, or probe an rpc instead',
      }
    : result;
}

/** Opens Watch and waits for the first message, then cancels. */
export function healthWatchStep(c: DiagnoseClient, service: string, timeoutMs: number): Promise<StepResult> {
  const elapsed = stopwatch();
  return new Promise((resolve) => {
    const call = (c.client as Client).makeServerStreamRequest(
      HEALTH_WATCH.path,
      HEALTH_WATCH.requestSerialize,
      HEALTH_WATCH.responseDeserialize,
      { service },
      c.metadata(),
      { deadline: Date.now() + timeoutMs },
    );
    let settled = false;
    const finish = (result: StepResult) => {
      if (settled) return;
      settled = true;
      call.cancel();
      resolve(result);
    };
    call.on('data', (message: { status: string }) =>
      finish(
        step('health-watch', 'ok', elapsed(), `implemented; first message ${toHealthStatus(message.status)}`),
      ),
    );
    call.on('error', (err: ServiceError) => {
      if (err.code === Status.UNIMPLEMENTED) {
        finish({
          ...step('health-watch', 'warn', elapsed(), `not implemented (UNIMPLEMENTED: ${err.details})`),
          cause: 'the server (or a proxy in front of it) serves Check only',
          fix: 'nothing required: grpc-pulse falls back to Check every interval; a server with Watch shows changes within milliseconds',
        });
      } else {
        const result = failed(
          'health-watch',
          elapsed(),
          `${Status[err.code] ?? err.code}: ${err.details}`,
          'rpc',
          {
            code: err.code,
            details: err.details,
            connected: true,
          },
        );
        // Watch is informative; only Check decides the verdict.
        finish({ ...result, status: 'warn', layer: undefined });
      }
    });
    call.on('end', () =>
      finish(step('health-watch', 'warn', elapsed(), 'the stream ended without a message')),
    );
  });
}

export async function healthListStep(c: DiagnoseClient, timeoutMs: number): Promise<StepResult> {
  const elapsed = stopwatch();
  const outcome = await callUnary(
    c.client,
    HEALTH_LIST,
    {},
    {
      deadlineMs: timeoutMs,
      metadata: c.metadata(),
      signal: new AbortController().signal,
    },
  );
  if (outcome.kind === 'ok') {
    const entries = Object.entries(outcome.response.statuses ?? {});
    const shown = entries
      .slice(0, MAX_LISTED)
      .map(([name, s]) => `${name === '' ? '""' : name}=${toHealthStatus(s.status)}`)
      .join(', ');
    const more = entries.length > MAX_LISTED ? ` and ${entries.length - MAX_LISTED} more` : '';
    const notServing = entries.filter(([, s]) => toHealthStatus(s.status) !== 'SERVING').length;
    return step(
      'health-list',
      notServing > 0 ? 'warn' : 'ok',
      elapsed(),
      `${entries.length} services: ${shown}${more}${notServing > 0 ? ` (${notServing} not SERVING)` : ''}`,
    );
  }
  if (outcome.kind === 'error' && outcome.code === Status.UNIMPLEMENTED) {
    return {
      ...skipped('health-list', 'Health/List not implemented (added to grpc.health.v1 in 2024)'),
      ms: elapsed(),
    };
  }
  const details =
    outcome.kind === 'error' ? `${Status[outcome.code] ?? outcome.code}: ${outcome.details}` : 'cancelled';
  const result = failed(
    'health-list',
    elapsed(),
    details,
    'rpc',
    outcome.kind === 'error' ? { code: outcome.code, details: outcome.details, connected: true } : 'unknown',
  );
  return { ...result, status: 'warn', layer: undefined };
}
