// Step "ping-test" (--ping-test): pings one connection, a Watch call open as the daemon has one, at
// shrinking intervals within the budget until the server answers GOAWAY ENHANCE_YOUR_CALM
// "too_many_pings" (gRFC A8 enforcement: grpc-go and C-core count a ping closer than their minimum to
// the previous one as a strike, GOAWAY after 2 strikes, and forget strikes when they send HEADERS or
// DATA). The interval it rejected bounds keepalive.time from below.

import type { DiagnoseOptions } from './args.js';
import type { Endpoint } from './endpoint.js';
import { GOAWAY_ENHANCE_YOUR_CALM, RawSession } from './h2-session.js';
import { failed, seconds, step, stopwatch, transportEvidence, waitAtMost } from './step.js';
import type { Findings, StepResult } from './types.js';

/** Pings per interval: one more than gRFC A8's default max_ping_strikes (2), so a rejection shows. */
const PINGS_PER_STEP = 3;
const RATIO = 0.5;
const MIN_INTERVAL_MS = 50;
const MAX_FIRST_INTERVAL_MS = 600_000;
/** How long a GOAWAY may take to follow the last ping. */
const GOAWAY_GRACE_MS = 300;

/** The intervals tried: geometric from a start that lets all steps fit the budget. */
export function pingSchedule(budgetMs: number): number[] {
  // Sum of a geometric series: PINGS_PER_STEP * first / (1 - RATIO) ≤ budget, less a fifth for the
  // Check and the reference ping of each step, so the short intervals still fit.
  let interval = Math.min(MAX_FIRST_INTERVAL_MS, (0.8 * budgetMs * (1 - RATIO)) / PINGS_PER_STEP);
  const schedule: number[] = [];
  while (interval >= MIN_INTERVAL_MS && schedule.length < 30) {
    schedule.push(Math.round(interval));
    interval *= RATIO;
  }
  return schedule;
}

export async function pingTestStep(
  endpoint: Endpoint,
  options: DiagnoseOptions,
  budgetMs: number,
): Promise<{ step: StepResult; findings: Pick<Findings, 'ping_policy_min_seconds'> }> {
  const elapsed = stopwatch();
  const opened = await RawSession.open(endpoint, options.connectTimeoutMs);
  if ('error' in opened) {
    const result = failed(
      'ping-test',
      elapsed(),
      opened.error,
      'connection',
      transportEvidence(opened.error, { timeout: opened.timeout, connected: false }),
    );
    const { layer: _layer, ...rest } = result;
    return { step: { ...rest, status: 'warn' }, findings: {} };
  }
  const session = opened.session;
  try {
    const watching = await session.openWatch(options.service, options.metadata, options.rpcTimeoutMs);
    const call = watching ? 'a Watch call open' : 'no call open (Watch did not answer)';
    const started = performance.now();
    const schedule = pingSchedule(budgetMs);
    /** Index in `schedule` of the step of the last ping sent: a GOAWAY answers that ping. */
    let lastSentStep: number | undefined;
    /** The last interval whose pings all went out and were answered without a GOAWAY. */
    let completed: number | undefined;
    let unanswered = 0;
    steps: for (const [k, interval] of schedule.entries()) {
      // Each interval starts clean: a call's answer resets the server's strikes, and the first ping
      // after it is the reference the next ones are measured from.
      await session.check(options.service, options.metadata, options.rpcTimeoutMs);
      if (session.end || (await session.ping(1000)) === undefined) break;
      for (let i = 0; i < PINGS_PER_STEP; i++) {
        if (performance.now() - started + interval > budgetMs) break steps;
        await waitAtMost(interval, session.ended);
        if (session.end) break steps;
        lastSentStep = k;
        if ((await session.ping(Math.max(interval, 1000))) === undefined && !session.end) unanswered += 1;
        if (session.end) break steps;
      }
      completed = interval;
    }
    if (!session.end) await waitAtMost(GOAWAY_GRACE_MS, session.ended);
    const end = session.end;
    const ms = elapsed();
    if (end?.kind === 'goaway' && end.code === GOAWAY_ENHANCE_YOUR_CALM && end.data === 'too_many_pings') {
      // The GOAWAY may arrive just after the ack of the ping that earned it: it answers the last ping sent.
      const rejected = schedule[lastSentStep ?? 0] ?? 0;
      const accepted = lastSentStep ? schedule[lastSentStep - 1] : undefined;
      const bracket =
        accepted !== undefined
          ? `pings every ${seconds(accepted)} were accepted: the server's minimum ping interval lies between`
          : `the server's minimum ping interval is above ${seconds(rejected)}`;
      return {
        step: {
          ...step(
            'ping-test',
            'ok',
            ms,
            `pings every ${seconds(rejected)} (${call}) got GOAWAY ENHANCE_YOUR_CALM "too_many_pings"; ${bracket}`,
          ),
          fix: `keepalive.time above ${seconds(rejected)}${accepted !== undefined ? ` (${seconds(accepted)} or more)` : ' (try a larger --ping-budget to bracket it; gRPC servers default to 5 min)'}`,
        },
        findings: { ping_policy_min_seconds: Math.round(rejected / 10) / 100 },
      };
    }
    if (end) {
      const how =
        end.kind === 'goaway'
          ? `GOAWAY code ${end.code}${end.data ? ` debug data "${end.data}"` : ''}`
          : end.kind === 'error'
            ? end.message
            : end.kind.toUpperCase();
      return {
        step: step(
          'ping-test',
          'warn',
          ms,
          `the connection ended after ${seconds(end.atMs)} (${how}) while pinging every ${seconds(schedule[lastSentStep ?? 0] ?? 0)}, not with too_many_pings`,
        ),
        findings: {},
      };
    }
    const unansweredNote = unanswered > 0 ? `; ${unanswered} pings unanswered` : '';
    return {
      step: step(
        'ping-test',
        unanswered > 0 ? 'warn' : 'ok',
        ms,
        `no ping enforcement seen down to pings every ${seconds(completed ?? 0)} (${call})${unansweredNote}`,
      ),
      findings: {},
    };
  } finally {
    session.close();
  }
}
