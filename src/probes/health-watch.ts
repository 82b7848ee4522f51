// The health Watch probe: a long-lived grpc.health.v1.Health/Watch stream per (target, service). Every
// message is pushed to the observer as it arrives, so a status change reaches /metrics at once. A stream
// that ends is a failure, re-opened with backoff; a Watch answered UNIMPLEMENTED falls back to Check.

import { type ClientReadableStream, status as Status, type StatusObject } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { classifyFailure } from '../connection/classify.js';
import { sleep } from '../util/abortable-sleep.js';
import { Backoff } from '../util/backoff.js';
import { type CallEvidence, recordCall } from './call-evidence.js';
import { HealthCheckProbe, type HealthProbeContext } from './health-check.js';
import { HEALTH_WATCH, type HealthResponse, toHealthStatus } from './health-protocol.js';
import { healthProbeName } from './probe.js';

/** How one Watch stream ended. */
type WatchEnd =
  | { kind: 'cancelled' }
  | { kind: 'unimplemented' }
  /** The server drained the connection (GOAWAY NO_ERROR) after the stream was open: not a failure. */
  | { kind: 'drained'; livedMs: number }
  | { kind: 'failed'; code: number; details: string; evidence?: CallEvidence; origin?: 'client' };

/** A drained stream younger than this re-opens after a backoff delay, which bounds a drain loop. */
const MIN_DRAINED_LIFETIME_MS = 1000;

/** Disconnects that mean "the server is going away on purpose", not a fault. */
const GRACEFUL = new Set(['goaway_no_error', 'idle']);

/** Re-open delays: quick after a single break, capped so a long outage costs little. */
const REOPEN_BACKOFF = { initialMs: 1000, maxMs: 30_000 };

export class HealthWatchProbe {
  readonly #ctx: HealthProbeContext;
  readonly #log: Logger;
  readonly #probe: string;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  /**
   * A stream is delivering statuses. Stays true across a drain (the next stream takes over at once);
   * a failed stream clears it, and the status becomes UNKNOWN until a new stream answers.
   */
  #up = false;
  /** Set once Watch proved UNIMPLEMENTED; from then on this probe is a Check probe. */
  #fallback: HealthCheckProbe | undefined;

  constructor(ctx: HealthProbeContext, log: Logger) {
    this.#ctx = ctx;
    this.#log = log;
    this.#probe = healthProbeName(ctx.service);
  }

  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    this.#loop = this.#run(this.#abort.signal);
  }

  async close(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
    await this.#fallback?.close();
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { target, service, observer } = this.#ctx;
    const backoff = new Backoff(REOPEN_BACKOFF);
    while (!signal.aborted) {
      const end = await this.#watchOnce(signal, backoff);
      if (end.kind === 'cancelled') return;
      if (end.kind === 'unimplemented') {
        this.#log.info({ service }, 'health Watch unimplemented, falling back to Check');
        observer.watchUp(target, service, undefined);
        this.#fallback = new HealthCheckProbe(this.#ctx);
        this.#fallback.start();
        return;
      }
      if (end.kind === 'drained') {
        // Rollouts and max_connection_age drain connections; re-open at once on the new connection,
        // unless streams are drained as fast as they open (a server that drains every connection).
        this.#log.debug({ service, livedMs: Math.round(end.livedMs) }, 'health Watch drained, re-opening');
        if (end.livedMs < MIN_DRAINED_LIFETIME_MS && !(await sleep(backoff.next(), signal))) return;
        continue;
      }
      if (this.#up) {
        this.#up = false;
        observer.watchUp(target, service, false);
        observer.healthStatus(target, service, 'UNKNOWN');
      }
      const reason = await this.#ctx.evidence.classify({
        code: end.code,
        details: end.details,
        ...(end.evidence ? { call: end.evidence } : {}),
        ...(end.origin ? { origin: end.origin } : {}),
      });
      observer.result(target, this.#probe, { success: false, reason, code: end.code, details: end.details });
      const delayMs = backoff.next();
      this.#log.debug({ service, reason, details: end.details, retryInMs: delayMs }, 'health Watch ended');
      if (!(await sleep(delayMs, signal))) return;
    }
  }

  /** Opens one stream and reports its messages; resolves when the stream has ended. */
  #watchOnce(signal: AbortSignal, backoff: Backoff): Promise<WatchEnd> {
    const { target, service, observer, client, timeoutMs } = this.#ctx;
    const probe = this.#probe;
    observer.attempt(target, probe);
    const started = performance.now();
    const { evidence, interceptor } = recordCall();
    const call: ClientReadableStream<HealthResponse> = client.makeServerStreamRequest(
      HEALTH_WATCH.path,
      HEALTH_WATCH.requestSerialize,
      HEALTH_WATCH.responseDeserialize,
      { service },
      this.#ctx.metadata(),
      { interceptors: [interceptor] },
    );
    let open = false;
    let timedOut = false;
    // The server must send the current status at once (grpc.health.v1); silence is a failed attempt.
    const firstMessageTimer = setTimeout(() => {
      timedOut = true;
      call.cancel();
    }, timeoutMs);
    firstMessageTimer.unref();
    const onAbort = () => call.cancel();
    signal.addEventListener('abort', onAbort, { once: true });

    call.on('data', (message: HealthResponse) => {
      const status = toHealthStatus(message.status);
      let durationSeconds: number | undefined;
      if (!open) {
        open = true;
        clearTimeout(firstMessageTimer);
        backoff.reset();
        durationSeconds = (performance.now() - started) / 1000;
        if (!this.#up) {
          this.#up = true;
          observer.watchUp(target, service, true);
        }
      }
      observer.healthStatus(target, service, status);
      if (status === 'SERVING') {
        observer.result(target, probe, { success: true, ongoing: true, durationSeconds });
      } else {
        const reason = classifyFailure({ healthStatus: status });
        observer.result(target, probe, {
          success: false,
          reason,
          details: `health status ${status}`,
          durationSeconds,
        });
      }
    });
    // grpc-js emits 'error' for a non-OK end as well as 'status'; 'status' carries all we need.
    call.on('error', () => {});

    return new Promise((resolve) => {
      call.on('status', (end: StatusObject) => {
        clearTimeout(firstMessageTimer);
        signal.removeEventListener('abort', onAbort);
        const last = this.#ctx.evidence.connection.lastDisconnect;
        const drained = open && last !== undefined && last.at >= started && GRACEFUL.has(last.reason);
        if (signal.aborted) resolve({ kind: 'cancelled' });
        else if (drained) resolve({ kind: 'drained', livedMs: performance.now() - started });
        else if (timedOut) {
          resolve({
            kind: 'failed',
            code: Status.DEADLINE_EXCEEDED,
            details: `no Watch message within ${timeoutMs} ms`,
            origin: 'client',
          });
        } else if (end.code === Status.UNIMPLEMENTED && !open) resolve({ kind: 'unimplemented' });
        else resolve({ kind: 'failed', code: end.code, details: end.details, evidence });
      });
    });
  }
}
