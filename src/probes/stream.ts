// The server-streaming RPC probe (SPEC "Config": `stream:` on an rpc). Two modes share one stream loop:
//   messages: N   every interval, one call that must deliver N messages, then the expected status;
//   hold: D       one stream kept open for D, then re-opened at once: a feed watched continuously.
// Both time every gap between messages: no first message within `first_message_within`, or a gap
// longer than `max_gap`, ends the stream as `stream_stalled` (the socket may look healthy while a proxy
// buffers or has stopped forwarding), and a held stream is re-opened with backoff. `expect.response`
// applies to every message. A stream the server ends is judged by its status; a stream drained by a
// graceful GOAWAY (max_connection_age, a rollout) is re-opened on the new connection, not a failure.

import { type ClientReadableStream, type Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import type { RpcConfig, StreamConfig, TargetConfig } from '../config/schema.js';
import { isGracefulDisconnect } from '../outcome/disconnect-reasons.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { OneShotResult, ProbeResult, StreamProgress } from '../outcome/probe-result.js';
import { type MethodDescriptor, responseJson } from '../rpc/method.js';
import { findMismatch } from '../rpc/subset.js';
import { Backoff } from '../util/backoff.js';
import { GRPC_CODE_NAMES } from '../util/grpc-codes.js';
import { type MethodSource, ProtoFileSource, ReflectionSource } from './method-source.js';
import type { PlannedProbe, Probe, ProbeContext } from './probe.js';
import { PeriodicTask } from './scheduler.js';

/** How one stream ended, before it is judged. */
type StreamEnd =
  /** We cancelled it (close, reload): no verdict. */
  | { kind: 'cancelled' }
  /** A held stream lived its `hold` and we ended it. */
  | { kind: 'held' }
  /** `once()` got its first message and ended the stream. */
  | { kind: 'first' }
  | { kind: 'stalled'; gapMs: number; first: boolean }
  | { kind: 'mismatch'; reason: FailureReason; details: string }
  | { kind: 'drained'; livedMs: number }
  | { kind: 'status'; code: number; details: string; livedMs: number };

/** What one stream saw, read by the judge and by the progress reports. */
interface StreamStats {
  messages: number;
  /** Messages not yet reported (StreamProgress.messages). */
  unreported: number;
  firstMessageSeconds: number | undefined;
  maxGapMs: number;
  durationSeconds: number;
}

interface StreamRun {
  /** Stop after the first message (`once()` of a held stream). */
  firstOnly: boolean;
  /** Called on a message that is worth reporting (the first, then at most once a second). */
  onProgress?: (stats: StreamStats, first: boolean) => void;
}

/** A held stream reports its messages at most this often (a fast feed costs one result a second). */
const PROGRESS_EVERY_MS = 1000;
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
    const stats: StreamStats = {
      messages: 0,
      unreported: 0,
      firstMessageSeconds: undefined,
      maxGapMs: 0,
      durationSeconds: 0,
    };
    if ('cancelled' in resolved) return undefined;
    if ('mismatch' in resolved) return { end: { kind: 'mismatch', ...resolved.mismatch }, stats };
    if ('callFailed' in resolved) {
      const { code, details } = resolved.callFailed;
      return { end: { kind: 'status', code, details, livedMs: 0 }, stats };
    }
    const { method, request } = resolved.ready;
    // The budget covers the whole attempt, descriptor fetch included.
    const remainingMs = Math.max(1, budgetMs - (performance.now() - started));
    const end = await this.#stream(method, request, metadata, signal, how, remainingMs, stats);
    return end.kind === 'cancelled' ? undefined : { end, stats };
  }

  /** Opens one stream and follows it to its end. */
  #stream(
    method: MethodDescriptor,
    request: Buffer,
    metadata: Metadata,
    signal: AbortSignal,
    how: StreamRun,
    budgetMs: number,
    stats: StreamStats,
  ): Promise<StreamEnd> {
    const { client, connection } = this.#ctx;
    const { hold, messages: wanted, max_gap: maxGapMs } = this.#options;
    const expectResponse = this.#rpc.expect.response;
    const firstLimitMs = this.#firstLimitMs(budgetMs);
    // A counted call (and once()) ends by its budget; a held stream by its hold, with a deadline as a
    // backstop that the hold and stall timers always beat.
    const deadlineMs =
      hold === undefined || how.firstOnly ? budgetMs : hold + (maxGapMs ?? 0) + (firstLimitMs ?? 0) + 1000;
    const started = performance.now();
    let lastAt = started;
    let lastReport = started;
    /** Why we ended the stream ourselves; unset while the stream is the server's to end. */
    let ending: StreamEnd | undefined;
    const call: ClientReadableStream<Buffer> = client.makeServerStreamRequest(
      method.path,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      request,
      metadata,
      { deadline: Date.now() + deadlineMs },
    );
    const end = (why: StreamEnd) => {
      ending ??= why;
      call.cancel();
    };
    // One timer watches every gap: it fires at the earliest moment the current gap can exceed its limit
    // and re-arms itself when a message came in between, so a fast stream costs no timer per message.
    let gapTimer: NodeJS.Timeout | undefined;
    const armGap = () => {
      const first = stats.messages === 0;
      const limit = first ? firstLimitMs : maxGapMs;
      if (limit === undefined) return;
      const waited = performance.now() - lastAt;
      gapTimer = setTimeout(
        () => {
          const gap = performance.now() - lastAt;
          const stillFirst = stats.messages === 0;
          if (stillFirst === first && gap >= limit) {
            stats.maxGapMs = Math.max(stats.maxGapMs, gap);
            end({ kind: 'stalled', gapMs: gap, first });
          } else armGap();
        },
        Math.max(1, limit - waited),
      );
      gapTimer.unref();
    };
    armGap();
    const holdTimer =
      hold !== undefined && !how.firstOnly ? setTimeout(() => end({ kind: 'held' }), hold) : undefined;
    holdTimer?.unref();
    const onAbort = () => end({ kind: 'cancelled' });
    signal.addEventListener('abort', onAbort, { once: true });

    call.on('data', (bytes: Buffer) => {
      if (ending) return;
      const now = performance.now();
      const first = stats.messages === 0;
      stats.maxGapMs = Math.max(stats.maxGapMs, now - lastAt);
      lastAt = now;
      stats.messages += 1;
      stats.unreported += 1;
      if (first) stats.firstMessageSeconds = (now - started) / 1000;
      if (wanted !== undefined && stats.messages > wanted) {
        end({
          kind: 'mismatch',
          reason: 'assertion_failed',
          details: `more than the ${wanted} messages expected`,
        });
        return;
      }
      if (expectResponse) {
        let mismatch: string | undefined;
        try {
          mismatch = findMismatch(expectResponse, responseJson(method.responseType, bytes));
        } catch (err) {
          end({ kind: 'mismatch', reason: 'protocol_error', details: `undecodable message: ${String(err)}` });
          return;
        }
        if (mismatch) {
          end({
            kind: 'mismatch',
            reason: 'assertion_failed',
            details: `message ${stats.messages}: ${mismatch}`,
          });
          return;
        }
      }
      if (first && how.firstOnly) {
        end({ kind: 'first' });
        return;
      }
      if (first) {
        // After the first message the gap limit changes from first_message_within to max_gap.
        clearTimeout(gapTimer);
        armGap();
      }
      if (how.onProgress && (first || now - lastReport >= PROGRESS_EVERY_MS)) {
        lastReport = now;
        how.onProgress(stats, first);
      }
    });
    // grpc-js emits 'error' for a non-OK end as well as 'status'; 'status' carries all we need.
    call.on('error', () => {});

    return new Promise((resolve) => {
      call.on('status', (status: StatusObject) => {
        clearTimeout(gapTimer);
        clearTimeout(holdTimer);
        signal.removeEventListener('abort', onAbort);
        const livedMs = performance.now() - started;
        stats.durationSeconds = livedMs / 1000;
        if (ending) {
          resolve(ending);
          return;
        }
        const last = connection.lastDisconnect;
        const drained =
          hold !== undefined &&
          status.code !== Status.OK &&
          last !== undefined &&
          last.at >= started &&
          isGracefulDisconnect(last.reason);
        if (drained) resolve({ kind: 'drained', livedMs });
        else resolve({ kind: 'status', code: status.code, details: status.details, livedMs });
      });
    });
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
