// Step "idle-test" (--idle-test DURATION): holds one HTTP/2 connection open with no calls and no pings
// and reports when and how it ended: GOAWAY from the server, FIN or RST from something in between, or
// still open at the end. The cutoff bounds keepalive.time from above. A second, busy connection runs
// alongside for max-connection-age.ts.

import type { DiagnoseOptions } from './args.js';
import type { Endpoint } from './endpoint.js';
import { RawSession, type SessionEnd } from './h2-session.js';
import { maxConnectionAgeStep } from './max-connection-age.js';
import { failed, seconds, step, stopwatch, transportEvidence, waitAtMost } from './step.js';
import type { Findings, IdleCutoffBy, StepResult } from './types.js';

/** Two GOAWAYs this close together on the idle and the busy connection are one drain, not an idle timeout. */
const SAME_DRAIN_MS = 1000;

/** A keepalive.time comfortably below a cutoff: three quarters of it, whole seconds, at least 1 s. */
export function keepaliveBelow(cutoffMs: number): string {
  return `${Math.max(1, Math.floor((cutoffMs * 0.75) / 1000))}s`;
}

function describeGoaway(end: Extract<SessionEnd, { kind: 'goaway' }>): string {
  return `GOAWAY code ${end.code}${end.data ? ` debug data "${end.data}"` : ''}`;
}

/** Interprets how the idle connection ended. */
export function idleVerdict(
  idle: SessionEnd | undefined,
  busy: SessionEnd | undefined,
  testMs: number,
  ms: number,
): { step: StepResult; findings: Pick<Findings, 'idle_cutoff_seconds' | 'idle_cutoff_by'> } {
  const by = (cutoffBy: IdleCutoffBy, atMs?: number) => ({
    idle_cutoff_by: cutoffBy,
    ...(atMs !== undefined ? { idle_cutoff_seconds: Math.round(atMs / 100) / 10 } : {}),
  });
  if (!idle) {
    return {
      step: step(
        'idle-test',
        'ok',
        ms,
        `still open after ${seconds(testMs)} with no calls and no pings: no idle cutoff shorter than that`,
      ),
      findings: by('none_within_test'),
    };
  }
  switch (idle.kind) {
    case 'goaway': {
      const sameDrain =
        busy?.kind === 'goaway' &&
        Math.abs(busy.atMs - idle.atMs) < SAME_DRAIN_MS &&
        !/idle/i.test(idle.data);
      if (sameDrain) {
        return {
          step: step(
            'idle-test',
            'ok',
            ms,
            `the idle and the busy connection were both drained after ${seconds(idle.atMs)} (${describeGoaway(idle)}): a connection age limit, no idle cutoff before it`,
          ),
          findings: by('none_within_test'),
        };
      }
      return {
        step: {
          ...step(
            'idle-test',
            'ok',
            ms,
            `the server (or an HTTP/2 proxy in front of it) closed the idle connection after ${seconds(idle.atMs)} with ${describeGoaway(idle)}: its max connection idle time`,
          ),
          fix: 'nothing required: a graceful GOAWAY, grpc-js reconnects on the next call (keepalive pings do not count as calls, so they do not prevent it)',
        },
        findings: by('server_goaway', idle.atMs),
      };
    }
    case 'fin':
    case 'rst': {
      const how = idle.kind === 'fin' ? 'closed (FIN)' : 'reset (RST)';
      return {
        step: {
          ...step(
            'idle-test',
            'warn',
            ms,
            `the idle connection was ${how} after ${seconds(idle.atMs)} without a GOAWAY`,
          ),
          cause: `something between here and the server (an LB, NAT, firewall or proxy; or a server without HTTP/2 graceful close) drops connections idle for ${seconds(idle.atMs)}`,
          fix: `keepalive.time below the cutoff, e.g. ${keepaliveBelow(idle.atMs)} with permit_without_calls: true (and a server policy that permits it, see --ping-test), or raise the intermediary's idle timeout`,
        },
        findings: by(idle.kind === 'fin' ? 'intermediary_close' : 'intermediary_reset', idle.atMs),
      };
    }
    case 'error':
      return {
        step: failedAsWarn(
          failed(
            'idle-test',
            ms,
            `the idle connection failed after ${seconds(idle.atMs)}: ${idle.message}`,
            'connection',
            transportEvidence(idle.message, { connected: true }),
          ),
        ),
        findings: {},
      };
  }
}

function failedAsWarn(result: StepResult): StepResult {
  const { layer: _layer, ...rest } = result;
  return { ...rest, status: 'warn' };
}

/** Runs the idle test and the busy-connection age test side by side, for `testMs`. */
export async function idleAndAgeSteps(
  endpoint: Endpoint,
  options: DiagnoseOptions,
  testMs: number,
): Promise<{ steps: StepResult[]; findings: Findings }> {
  const elapsed = stopwatch();
  const [idle, busy] = await Promise.all([
    RawSession.open(endpoint, options.connectTimeoutMs),
    RawSession.open(endpoint, options.connectTimeoutMs),
  ]);
  try {
    if ('error' in idle) {
      const result = failed(
        'idle-test',
        elapsed(),
        idle.error,
        'connection',
        transportEvidence(idle.error, { timeout: idle.timeout, connected: false }),
      );
      return { steps: [failedAsWarn(result)], findings: {} };
    }
    const watching =
      'session' in busy &&
      (await busy.session.openWatch(options.service, options.metadata, options.rpcTimeoutMs));
    const deadline = idle.session.readyAt + testMs;
    // Done once both connections have ended (a byte-counting intermediary drops both at its cutoff),
    // else at the deadline: a busy connection still open may yet show the server's age limit.
    const bothEnded =
      'session' in busy ? Promise.all([idle.session.ended, busy.session.ended]) : idle.session.ended;
    await waitAtMost(deadline - performance.now(), bothEnded);
    const busyEnd = 'session' in busy ? busy.session.end : undefined;
    const verdict = idleVerdict(idle.session.end, busyEnd, testMs, elapsed());
    const age = maxConnectionAgeStep(
      'session' in busy ? (watching ? busyEnd : 'no_call') : busy.error,
      testMs,
      elapsed(),
    );
    return { steps: [verdict.step, age.step], findings: { ...verdict.findings, ...age.findings } };
  } finally {
    if ('session' in idle) idle.session.close();
    if ('session' in busy) busy.session.close();
  }
}
