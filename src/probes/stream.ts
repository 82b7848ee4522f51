// The server-streaming RPC probe (SPEC "Config": `stream:` on an rpc). Two modes share one stream loop:
//   messages: N   every interval, one call that must deliver N messages, then the expected status;
//   hold: D       one stream kept open for D, then re-opened at once: a feed watched continuously.
// Both time every gap between messages: no first message within `first_message_within`, or a gap
// longer than `max_gap`, ends the stream as `stream_stalled` (the socket may look healthy while a proxy
// buffers or has stopped forwarding), and a held stream is re-opened with backoff. `expect.response`
// applies to every message. A stream the server ends is judged by its status; a stream drained by a
// graceful GOAWAY (max_connection_age, a rollout) is re-opened on the new connection, not a failure.

import { type Metadata, status as Status } from '@grpc/grpc-js';
import type { RpcConfig, StreamConfig, TargetConfig } from '../config/schema.js';
import type { OneShotResult, ProbeResult, StreamProgress } from '../outcome/probe-result.js';
import { Backoff } from '../util/backoff.js';
import { GRPC_CODE_NAMES } from '../util/grpc-codes.js';
import { type MethodSource, ProtoFileSource, ReflectionSource } from './method-source.js';
import type { PlannedProbe, Probe, ProbeContext } from './probe.js';
import { PeriodicTask } from './scheduler.js';
import { followStream, newStats, type StreamEnd, type StreamRun, type StreamStats } from './stream-call.js';

/** A stream that ends (drained, or by the server) younger than this re-opens after a backoff delay. */
const MIN_LIFETIME_MS = 1000;
const REOPEN_BACKOFF = { initialMs: 1000, maxMs: 30_000 };

const codeName = (code: number) => GRPC_CODE_NAMES[code] ?? String(code);
const ms = (value: number) => `${Math.round(value)} ms`;

export class StreamProbe implements Probe {
  readonly name: string;
  readonly kind = 'stream';
  readonly timeoutMs: number;
  readonly stream = true;
  readonly #rpc: RpcConfig;
  readonly #options: StreamConfig;
  readonly #ctx: ProbeContext;
  readonly #metadata: () => Metadata;
  readonly #source: MethodSource;
  readonly #task: PeriodicTask;
  readonly #backoff = new Backoff(REOPEN_BACKOFF);
  /** Whether the last verdict was a success, to log transitions and not every failed stream. */
  #wasOk: boolean | undefined;

  constructor(rpc: RpcConfig, options: StreamConfig, ctx: ProbeContext) {
    this.name = rpc.name;
    this.#rpc = rpc;
    this.#options = options;
    this.timeoutMs = options.first_message_within ?? rpc.timeoutMs;
    this.#ctx = ctx;
    this.#metadata = ctx.metadata(rpc.metadata);
    this.#source = rpc.proto
      ? new ProtoFileSource(rpc)
      : new ReflectionSource(rpc, ctx.client, ctx.connection);
    this.#task = new PeriodicTask((signal) => this.#attempt(signal), {
      intervalMs: rpc.intervalMs,
      // A held stream opens at once, as a Watch does; counted calls spread out like unary probes.
      ...(options.hold !== undefined ? { maxInitialDelayMs: 0 } : {}),
    });
  }

  start(): void {
    this.#task.start();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  /** One call (messages: N) or a stream up to its first message (hold), unrecorded, for /probe. */
  async once(timeoutMs: number, signal: AbortSignal): Promise<OneShotResult | undefined> {
    const held = this.#options.hold !== undefined;
    const run = await this.#run(signal, { firstOnly: held }, timeoutMs);
    if (run === undefined) return undefined;
    const result = (await this.#judge(run.end, run.stats)) ?? { success: true };
    if (run.end.kind === 'first') result.durationSeconds = run.stats.firstMessageSeconds;
    return { result };
  }

  /** One stream's life; resolves with the delay before the next (nothing: the interval). */
  async #attempt(signal: AbortSignal): Promise<number | undefined> {
    const { target, observer } = this.#ctx;
    const held = this.#options.hold !== undefined;
    observer.attempt(target, this.name);
    const run = await this.#run(
      signal,
      { firstOnly: false, ...(held ? { onProgress: (stats, first) => this.#progress(stats, first) } : {}) },
      this.#rpc.timeoutMs,
    );
    if (run === undefined) return 0; // cancelled: the loop is stopping
    const { end, stats } = run;
    const result = await this.#judge(end, stats);
    if (result) {
      // A held stream reported its first message already; a counted call reports everything at its end.
      observer.result(target, this.name, { ...result, stream: this.#take(stats, !held) });
      this.#logTransition(result);
    } else if (stats.unreported > 0) {
      observer.result(target, this.name, { success: true, ongoing: true, stream: this.#take(stats, false) });
    }
    if (!held) return undefined;
    if (result && !result.success) return this.#backoff.next();
    // A held stream that lived its time re-opens at once; one that the server (or a drain) ended young
    // waits, which bounds a loop against a server that ends every stream at once.
    const livedMs = end.kind === 'drained' || end.kind === 'status' ? end.livedMs : Infinity;
    if (livedMs < MIN_LIFETIME_MS) return this.#backoff.next();
    this.#backoff.reset();
    return 0;
  }

  /** A held stream's report of its messages so far: a success that lasts while the stream delivers. */
  #progress(stats: StreamStats, first: boolean): void {
    const result: ProbeResult = { success: true, ongoing: true, stream: this.#take(stats, first) };
    if (first) result.durationSeconds = stats.firstMessageSeconds;
    this.#ctx.observer.result(this.#ctx.target, this.name, result);
    if (first) this.#logTransition(result);
  }

  /** The stream facts not yet reported; the first-message time goes with the first report only. */
  #take(stats: StreamStats, withFirst: boolean): StreamProgress {
    const progress: StreamProgress = { messages: stats.unreported, maxGapSeconds: stats.maxGapMs / 1000 };
    if (withFirst && stats.firstMessageSeconds !== undefined)
      progress.firstMessageSeconds = stats.firstMessageSeconds;
    stats.unreported = 0;
    return progress;
  }

  #logTransition(result: ProbeResult): void {
    if (result.success === this.#wasOk) return;
    this.#wasOk = result.success;
    if (result.success) this.#ctx.log.info({ probe: this.name }, 'stream probe succeeding');
    else
      this.#ctx.log.warn(
        { probe: this.name, reason: result.reason, details: result.details },
        'stream probe failing',
      );
  }

  /** The verdict of a finished stream; undefined when it ended without one (held, drained, first). */
  async #judge(end: StreamEnd, stats: StreamStats): Promise<ProbeResult | undefined> {
    const { durationSeconds } = stats;
    switch (end.kind) {
      case 'cancelled':
      case 'held':
      case 'first':
      case 'drained':
        return undefined;
      case 'stalled': {
        const limit = end.first ? 'first_message_within' : 'max_gap';
        const allowed = (end.first ? this.#firstLimitMs(this.#rpc.timeoutMs) : this.#options.max_gap) ?? 0;
        const details = end.first
          ? `no first message within ${ms(end.gapMs)} (${limit} ${ms(allowed)})`
          : `no message for ${ms(end.gapMs)} after ${stats.messages} (${limit} ${ms(allowed)})`;
        return { success: false, reason: 'stream_stalled', details, durationSeconds };
      }
      case 'mismatch':
        return { success: false, reason: end.reason, details: end.details, durationSeconds };
      case 'status':
        return this.#judgeStatus(end.code, end.details, stats);
    }
  }

  /** A stream the server (or the transport) ended: by its status, then by the message count. */
  async #judgeStatus(code: number, details: string, stats: StreamStats): Promise<ProbeResult> {
    const { durationSeconds } = stats;
    const expected = this.#rpc.expect.code;
    const wanted = this.#options.messages;
    if (code !== expected) {
      if (code === Status.UNIMPLEMENTED) this.#source.invalidate();
      // Same rule as the unary probe: only a probe that expects a non-OK status turns another answer
      // of the server into an unmet expectation; otherwise a failed call is classified as any other.
      const reason =
        code === Status.OK ? 'assertion_failed' : await this.#ctx.evidence.classify({ code, details });
      const serverChose = expected !== Status.OK && (code === Status.OK || reason === 'rpc_error');
      return {
        success: false,
        code,
        durationSeconds,
        reason: serverChose ? 'assertion_failed' : reason,
        details: serverChose
          ? `expected status ${codeName(expected)}, got ${codeName(code)}${details ? `: ${details}` : ''}`
          : details,
      };
    }
    if (wanted !== undefined && stats.messages !== wanted) {
      return {
        success: false,
        code,
        durationSeconds,
        reason: 'assertion_failed',
        details: `expected ${wanted} messages, got ${stats.messages} before ${codeName(code)}`,
      };
    }
    const max = this.#rpc.expect.max_latency;
    if (wanted !== undefined && max !== undefined && durationSeconds * 1000 > max) {
      return {
        success: false,
        code,
        durationSeconds,
        reason: 'assertion_failed',
        details: `latency ${(durationSeconds * 1000).toFixed(1)} ms is over max_latency ${max} ms`,
      };
    }
    return { success: true, code, durationSeconds };
  }

  /**
   * The first-message limit: first_message_within, else (for a held stream, which has no deadline to
   * stop a silent start) the attempt's budget. A counted call without it is bounded by its deadline.
   */
  #firstLimitMs(budgetMs: number): number | undefined {
    const configured = this.#options.first_message_within;
    if (configured !== undefined) return Math.min(configured, budgetMs);
    return this.#options.hold !== undefined ? budgetMs : undefined;
  }

  /**
   * Resolves the method and runs one stream; undefined when cancelled. `budgetMs` is the deadline of a
   * counted call, and of what `once()` waits for.
   */
  async #run(
    signal: AbortSignal,
    how: StreamRun,
    budgetMs: number,
  ): Promise<{ end: StreamEnd; stats: StreamStats } | undefined> {
    const metadata = this.#metadata();
    const started = performance.now();
    const resolved = await this.#source.resolve(metadata, budgetMs, signal);
    const stats = newStats();
    if ('cancelled' in resolved) return undefined;
    if ('mismatch' in resolved) return { end: { kind: 'mismatch', ...resolved.mismatch }, stats };
    if ('callFailed' in resolved) {
      const { code, details } = resolved.callFailed;
      return { end: { kind: 'status', code, details, livedMs: 0 }, stats };
    }
    const { method, request } = resolved.ready;
    // The budget covers the whole attempt, descriptor fetch included.
    const remainingMs = Math.max(1, budgetMs - (performance.now() - started));
    const { hold, messages, max_gap } = this.#options;
    const firstLimitMs = this.#firstLimitMs(remainingMs);
    const end = await followStream({
      client: this.#ctx.client,
      connection: this.#ctx.connection,
      method,
      request,
      metadata,
      signal,
      how,
      stats,
      // A counted call (and once()) ends by its budget; a held stream by its hold, with a deadline as
      // a backstop that the hold and stall timers always beat.
      deadlineMs:
        hold === undefined || how.firstOnly
          ? remainingMs
          : hold + (max_gap ?? 0) + (firstLimitMs ?? 0) + 1000,
      holdMs: how.firstOnly ? undefined : hold,
      maxMessages: messages,
      firstLimitMs,
      maxGapMs: max_gap,
      expectResponse: this.#rpc.expect.response,
    });
    return end.kind === 'cancelled' ? undefined : { end, stats };
  }
}

/** The plan entry of a server-streaming rpc probe. */
export function streamProbe(_target: TargetConfig, rpc: RpcConfig, options: StreamConfig): PlannedProbe {
  return {
    name: rpc.name,
    kind: 'stream',
    timeoutMs: options.first_message_within ?? rpc.timeoutMs,
    stream: true,
    create: (ctx: ProbeContext) => new StreamProbe(rpc, options, ctx),
  };
}
