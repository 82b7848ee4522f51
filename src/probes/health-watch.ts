// The health Watch probe: a long-lived grpc.health.v1.Health/Watch stream per (target, service). Every
// message is pushed to the observer as it arrives, so a status change reaches /metrics at once. A stream
// that ends is a failure, re-opened with backoff; a Watch answered UNIMPLEMENTED falls back to Check.
// One attempt of its PeriodicTask is one stream's life; the attempt returns the re-open delay.

import {
  type Client,
  type ClientReadableStream,
  connectivityState,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import type { HealthConfig, TargetConfig } from '../config/schema.js';
import { classifyFailure } from '../connection/classify.js';
import { isGracefulDisconnect } from '../outcome/disconnect-reasons.js';
import { toHealthStatus } from '../outcome/health-statuses.js';
import type { OneShotResult } from '../outcome/probe-result.js';
import { DEFAULT_MAX_RECONNECT_BACKOFF_MS } from '../targets/channel.js';
import { Backoff } from '../util/backoff.js';
import { type CallEvidence, recordCall } from './call-evidence.js';
import { checkHealth, healthCallDeps, type RecordedCheckDeps, recordedCheck } from './health-check.js';
import { HEALTH_WATCH, type HealthResponse } from './health-protocol.js';
import {
  healthProbeName,
  type PlannedProbe,
  type Probe,
  type ProbeContext,
  type ProbeSpec,
} from './probe.js';
import { PeriodicTask } from './scheduler.js';

/** How one Watch stream ended. */
type WatchEnd =
  | { kind: 'cancelled' }
  | { kind: 'unimplemented' }
  /** The server drained the connection (a graceful disconnect) after the stream was open: not a failure. */
  | { kind: 'drained'; livedMs: number }
  | { kind: 'failed'; code: number; details: string; evidence?: CallEvidence; origin?: 'client' };

/** A drained stream younger than this re-opens after a backoff delay, which bounds a drain loop. */
const MIN_DRAINED_LIFETIME_MS = 1000;

/** Re-open delays: quick after a single break; capped by the target's max_reconnect_backoff. */
const REOPEN_INITIAL_MS = 1000;

export class HealthWatchProbe implements Probe {
  readonly name: string;
  readonly kind = 'health_watch';
  readonly timeoutMs: number;
  readonly health: { service: string; watch: boolean };
  readonly #ctx: ProbeContext;
  readonly #deps: RecordedCheckDeps;
  readonly #task: PeriodicTask;
  readonly #backoff: Backoff;
  /**
   * A stream is delivering statuses. Stays true across a drain (the next stream takes over at once);
   * a failed stream clears it, and the status becomes UNKNOWN until a new stream answers.
   */
  #up = false;
  /**
   * The connection (ConnectionView.connections) on which Watch proved UNIMPLEMENTED: attempts on it are
   * Checks, at the interval. A new connection may reach another server (a rollout, a proxy that now
   * passes streams), so Watch is tried again there.
   */
  #fallback: number | undefined;

  constructor(
    spec: ProbeSpec & { intervalMs: number; service: string; maxBackoffMs?: number },
    ctx: ProbeContext,
  ) {
    this.name = spec.name;
    this.timeoutMs = spec.timeoutMs;
    this.health = { service: spec.service, watch: true };
    this.#backoff = new Backoff({
      initialMs: REOPEN_INITIAL_MS,
      maxMs: Math.max(REOPEN_INITIAL_MS, spec.maxBackoffMs ?? DEFAULT_MAX_RECONNECT_BACKOFF_MS),
    });
    this.#ctx = ctx;
    this.#deps = {
      ...healthCallDeps(spec.service, ctx),
      target: ctx.target,
      probe: spec.name,
      observer: ctx.observer,
    };
    // A stream opens at once: its first message is the current status, and it costs one call per life.
    this.#task = new PeriodicTask((signal) => this.#attempt(signal), {
      intervalMs: spec.intervalMs,
      maxInitialDelayMs: 0,
    });
  }

  start(): void {
    this.#task.start();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  /** A Check: one answer now, as /probe needs, without disturbing the stream. */
  once(timeoutMs: number, signal: AbortSignal): Promise<OneShotResult | undefined> {
    return checkHealth(this.#deps, timeoutMs, signal);
  }

  /** One stream's life (or one Check after the fallback); resolves with the delay before the next. */
  async #attempt(signal: AbortSignal): Promise<number | undefined> {
    const { target, observer, log } = this.#ctx;
    const service = this.health.service;
    if (this.#fallback !== undefined && this.#fallback !== this.#ctx.connection.connections) {
      log.info({ service }, 'new connection: trying health Watch again');
      this.#fallback = undefined;
    }
    if (this.#fallback !== undefined) {
      await recordedCheck(this.#deps, this.timeoutMs, signal);
      return undefined;
    }
    const end = await this.#watchOnce(signal);
    switch (end.kind) {
      case 'cancelled':
        return 0;
      case 'unimplemented':
        log.info({ service }, 'health Watch unimplemented, falling back to Check');
        observer.watchUp(target, service, undefined);
        this.#fallback = this.#ctx.connection.connections;
        return 0;
      case 'drained':
        // Rollouts and max_connection_age drain connections; re-open at once on the new connection,
        // unless streams are drained as fast as they open (a server that drains every connection).
        log.debug({ service, livedMs: Math.round(end.livedMs) }, 'health Watch drained, re-opening');
        return end.livedMs < MIN_DRAINED_LIFETIME_MS ? this.#backoff.next() : 0;
      case 'failed': {
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
        observer.result(target, this.name, { success: false, reason, code: end.code, details: end.details });
        const delayMs = this.#backoff.next();
        log.debug({ service, reason, details: end.details, retryInMs: delayMs }, 'health Watch ended');
        // One backoff, not two stacked: where the connection is gone, grpc-js's reconnect backoff
        // already paces the retries, so the stream re-opens as soon as the channel is READY again.
        await readyOrDelay(this.#ctx.client.getChannel(), delayMs, signal);
        return 0;
      }
    }
  }

  /** Opens one stream and reports its messages; resolves when the stream has ended. */
  #watchOnce(signal: AbortSignal): Promise<WatchEnd> {
    const { target, observer, client } = this.#ctx;
    const { service } = this.health;
    const { name: probe, timeoutMs } = this;
    if (signal.aborted) return Promise.resolve({ kind: 'cancelled' });
    observer.attempt(target, probe);
    const started = performance.now();
    const { evidence, interceptor } = recordCall();
    const call: ClientReadableStream<HealthResponse> = client.makeServerStreamRequest(
      HEALTH_WATCH.path,
      HEALTH_WATCH.requestSerialize,
      HEALTH_WATCH.responseDeserialize,
      { service },
      this.#deps.metadata(),
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
        this.#backoff.reset();
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
        const last = this.#ctx.connection.lastDisconnect;
        const drained = open && last !== undefined && last.at >= started && isGracefulDisconnect(last.reason);
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

/** The plan entry of a `mode: watch` health probe. */
export function healthWatchProbe(config: TargetConfig, health: HealthConfig): PlannedProbe {
  const spec = {
    name: healthProbeName(health.service),
    kind: 'health_watch',
    timeoutMs: config.timeoutMs,
    health: { service: health.service, watch: true },
  } as const;
  return {
    ...spec,
    create: (ctx) =>
      new HealthWatchProbe(
        {
          ...spec,
          intervalMs: config.intervalMs,
          service: health.service,
          maxBackoffMs: config.maxReconnectBackoffMs,
        },
        ctx,
      ),
  };
}

/**
 * Waits delayMs, or less: a channel that is not READY now (the connection is gone) ends the wait the
 * moment it is READY again. A channel that stays READY (the server itself ended the stream) waits the
 * whole delay, so a server that fails every Watch at once is not asked in a tight loop.
 */
export function readyOrDelay(
  channel: ReturnType<Client['getChannel']>,
  delayMs: number,
  signal: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      resolve();
    };
    const timer = setTimeout(finish, delayMs);
    timer.unref?.();
    signal.addEventListener('abort', finish, { once: true });
    const deadline = Date.now() + delayMs;
    // getConnectivityState(true) asks an IDLE channel (after a GOAWAY) to connect again.
    let state = channel.getConnectivityState(true);
    if (state === connectivityState.READY) return; // the server ended the stream: wait it out
    const watch = () => {
      if (done) return;
      channel.watchConnectivityState(state, deadline, (err) => {
        if (err || done) return;
        state = channel.getConnectivityState(true);
        if (state === connectivityState.READY) finish();
        else if (state !== connectivityState.SHUTDOWN) watch();
      });
    };
    watch();
  });
}
