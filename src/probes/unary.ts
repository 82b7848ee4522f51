// The synthetic RPC probe: every interval, one call of a real unary method with the configured request,
// metadata and deadline, on the target's channel; the answer is checked against `expect` (status code,
// a subset of the response's JSON form, latency). An unmet expectation is `assertion_failed`, with the
// mismatch in the details (logs and /api/v1/targets), never in a label.

import { type Client, type Metadata, status as Status } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { RpcConfig, TargetConfig } from '../config/schema.js';
import type { OneShotResult, ProbeResult } from '../outcome/probe-result.js';
import { responseJson } from '../rpc/method.js';
import { findMismatch } from '../rpc/subset.js';
import { GRPC_CODE_NAMES } from '../util/grpc-codes.js';
import { callUnary } from './call.js';
import type { FailureEvidenceCollector } from './failure-evidence.js';
import { type MethodSource, ProtoFileSource, ReflectionSource } from './method-source.js';
import type { PlannedProbe, Probe, ProbeContext, ProbeObserver } from './probe.js';
import { PeriodicTask } from './scheduler.js';

export interface UnaryProbeContext {
  target: string;
  rpc: RpcConfig;
  client: Client;
  /** Target metadata merged with the probe's own, secrets revealed (built per call). */
  metadata: () => Metadata;
  source: MethodSource;
  observer: ProbeObserver;
  evidence: FailureEvidenceCollector;
  log: Logger;
}

const codeName = (code: number) => GRPC_CODE_NAMES[code] ?? String(code);

export class UnaryProbe implements Probe {
  readonly name: string;
  readonly kind = 'unary';
  readonly timeoutMs: number;
  readonly #ctx: UnaryProbeContext;
  readonly #task: PeriodicTask;

  constructor(ctx: UnaryProbeContext) {
    this.name = ctx.rpc.name;
    this.timeoutMs = ctx.rpc.timeoutMs;
    this.#ctx = ctx;
    this.#task = new PeriodicTask((signal) => this.attempt(signal), { intervalMs: ctx.rpc.intervalMs });
  }

  start(): void {
    this.#task.start();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  async once(timeoutMs: number, signal: AbortSignal): Promise<OneShotResult | undefined> {
    const result = await this.#run(signal, timeoutMs);
    return result && { result };
  }

  /** One scheduled attempt: counted, run, recorded (public for the probe-cost benchmark). */
  async attempt(signal: AbortSignal): Promise<void> {
    const { target, rpc, observer } = this.#ctx;
    observer.attempt(target, rpc.name);
    const result = await this.#run(signal, rpc.timeoutMs);
    if (result === undefined) return; // cancelled by us
    // The runner's observer logs the first failure and the recovery (transition-log.ts).
    observer.result(target, rpc.name, result);
  }

  /** One attempt as a verdict; undefined when it was cancelled. */
  async #run(signal: AbortSignal, timeoutMs: number): Promise<ProbeResult | undefined> {
    const { rpc, client, source, evidence } = this.#ctx;
    const metadata = this.#ctx.metadata();
    const started = performance.now();
    const resolved = await source.resolve(metadata, timeoutMs, signal);
    if ('cancelled' in resolved) return undefined;
    if ('mismatch' in resolved) return { success: false, ...resolved.mismatch };
    if ('callFailed' in resolved) {
      const { code, details } = resolved.callFailed;
      return { success: false, code, details, reason: await evidence.classify({ code, details }) };
    }
    const { method, request } = resolved.ready;
    // The deadline covers the whole attempt, descriptor fetch included.
    const remainingMs = Math.max(1, timeoutMs - (performance.now() - started));
    const outcome = await callUnary(
      client,
      {
        path: method.path,
        requestSerialize: (bytes: Buffer) => bytes,
        // Decoded only when an expectation reads it: most probes check the status and latency alone.
        responseDeserialize: (bytes: Buffer) => bytes,
      },
      request,
      { deadlineMs: remainingMs, metadata, signal },
    );
    if (outcome.kind === 'cancelled') return undefined;
    const durationSeconds = outcome.durationSeconds;
    const code = outcome.kind === 'ok' ? Status.OK : outcome.code;
    const expected = rpc.expect;
    if (code !== expected.code) {
      // The server may have changed under a reflection-built descriptor: learn it again next time.
      if (code === Status.UNIMPLEMENTED) source.invalidate();
      const details = outcome.kind === 'ok' ? '' : outcome.details;
      // A failed call is classified as any other; only a probe that expects a specific non-OK status
      // (NOT_FOUND, say) turns another answer of the server into an unmet expectation.
      const reason =
        outcome.kind === 'ok'
          ? 'assertion_failed'
          : await evidence.classify({ code, details, call: outcome.evidence, unary: true });
      const serverChose = expected.code !== Status.OK && (code === Status.OK || reason === 'rpc_error');
      return {
        success: false,
        code,
        durationSeconds,
        reason: serverChose ? 'assertion_failed' : reason,
        details: serverChose
          ? `expected status ${codeName(expected.code)}, got ${codeName(code)}${details ? `: ${details}` : ''}`
          : details,
      };
    }
    if (outcome.kind === 'ok' && expected.response) {
      const mismatch = findMismatch(expected.response, responseJson(method.responseType, outcome.response));
      if (mismatch)
        return { success: false, code, durationSeconds, reason: 'assertion_failed', details: mismatch };
    }
    if (expected.max_latency !== undefined && durationSeconds * 1000 > expected.max_latency) {
      return {
        success: false,
        code,
        durationSeconds,
        reason: 'assertion_failed',
        details: `latency ${(durationSeconds * 1000).toFixed(1)} ms is over max_latency ${expected.max_latency} ms`,
      };
    }
    return { success: true, code, durationSeconds };
  }
}

/** The plan entry of a synthetic RPC probe. */
export function unaryProbe(_target: TargetConfig, rpc: RpcConfig): PlannedProbe {
  return {
    name: rpc.name,
    kind: 'unary',
    timeoutMs: rpc.timeoutMs,
    create: (ctx: ProbeContext) =>
      new UnaryProbe({
        target: ctx.target,
        rpc,
        client: ctx.client,
        metadata: ctx.metadata(rpc.metadata),
        source: rpc.proto ? new ProtoFileSource(rpc) : new ReflectionSource(rpc, ctx.client, ctx.connection),
        observer: ctx.observer,
        evidence: ctx.evidence,
        log: ctx.log,
      }),
  };
}
