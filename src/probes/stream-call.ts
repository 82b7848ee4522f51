// One server stream's life, for the stream probe (stream.ts): it opens the call, times the first
// message and every gap with one self-re-arming timer, checks each message, ends the stream itself on a
// stall, a mismatch or the end of its hold, and says how it ended. The probe judges and reports.

import {
  type Client,
  type ClientReadableStream,
  type Metadata,
  status as Status,
  type StatusObject,
} from '@grpc/grpc-js';
import type { ConnectionView } from '../connection/watcher.js';
import { isGracefulDisconnect } from '../outcome/disconnect-reasons.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import { type MethodDescriptor, responseJson } from '../rpc/method.js';
import { findMismatch } from '../rpc/subset.js';

export /** How one stream ended, before it is judged. */
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
export interface StreamStats {
  messages: number;
  /** Messages not yet reported (StreamProgress.messages). */
  unreported: number;
  firstMessageSeconds: number | undefined;
  maxGapMs: number;
  durationSeconds: number;
}

export interface StreamRun {
  /** Stop after the first message (`once()` of a held stream). */
  firstOnly: boolean;
  /** Called on a message that is worth reporting (the first, then at most once a second). */
  onProgress?: (stats: StreamStats, first: boolean) => void;
}

/** A held stream reports its messages at most this often (a fast feed costs one result a second). */
const PROGRESS_EVERY_MS = 1000;

export function newStats(): StreamStats {
  return { messages: 0, unreported: 0, firstMessageSeconds: undefined, maxGapMs: 0, durationSeconds: 0 };
}

/** What one stream needs; the limits are already resolved by the probe. */
export interface StreamSpec {
  client: Client;
  connection: ConnectionView;
  method: MethodDescriptor;
  request: Buffer;
  metadata: Metadata;
  signal: AbortSignal;
  how: StreamRun;
  /** Updated as messages arrive. */
  stats: StreamStats;
  deadlineMs: number;
  /** The stream is ended (and not judged) after this long; undefined: it runs until the server ends it. */
  holdMs: number | undefined;
  /** More messages than this is a mismatch (messages: N). */
  maxMessages: number | undefined;
  firstLimitMs: number | undefined;
  maxGapMs: number | undefined;
  /** Subset every message must match. */
  expectResponse: Record<string, unknown> | undefined;
}

/** Opens one stream and follows it to its end. */
export function followStream(spec: StreamSpec): Promise<StreamEnd> {
  const { client, connection, method, request, metadata, signal, how, stats } = spec;
  const { holdMs: hold, maxMessages: wanted, maxGapMs, firstLimitMs, expectResponse, deadlineMs } = spec;
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
