// Helpers every diagnose step uses: a monotonic stopwatch and the shape of a failed step, whose cause
// and fix come from the shared table (causes.ts) by the classified reason.

import { status as Status } from '@grpc/grpc-js';
import { classifyFailure, type FailureEvidence } from '../connection/classify.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import { causeAndFix } from './causes.js';
import type { FailureLayer, StepResult, StepStatus } from './types.js';

export function stopwatch(): () => number {
  const started = performance.now();
  return () => Math.round((performance.now() - started) * 10) / 10;
}

export function step(name: string, status: StepStatus, ms: number, detail: string): StepResult {
  return { name, status, ms, detail };
}

/** A failed step, classified by the one classifier (connection/classify.ts), with its cause and fix. */
export function failed(
  name: string,
  ms: number,
  detail: string,
  layer: FailureLayer,
  evidence: FailureEvidence | FailureReason,
): StepResult {
  const reason = typeof evidence === 'string' ? evidence : classifyFailure(evidence);
  return { name, status: 'fail', ms, detail: `${reason}: ${detail}`, layer, reason, ...causeAndFix(reason) };
}

/**
 * Evidence of a failure this client saw on its own socket (connect, handshake, a raw HTTP/2 session),
 * shaped as grpc-js reports a transport failure: a status it synthesized itself (origin `client`),
 * UNAVAILABLE or, after a timeout, DEADLINE_EXCEEDED. Without a code the classifier would read it as
 * a peer that sent no status (protocol_error), and without the origin as a status the server chose.
 */
export function transportEvidence(
  details: string,
  facts: { timeout?: boolean; connected: boolean; peerSpeaksTls?: boolean },
): FailureEvidence {
  return {
    code: facts.timeout ? Status.DEADLINE_EXCEEDED : Status.UNAVAILABLE,
    details,
    origin: 'client',
    connected: facts.connected,
    ...(facts.peerSpeaksTls !== undefined ? { peerSpeaksTls: facts.peerSpeaksTls } : {}),
  };
}

export function skipped(name: string, why: string): StepResult {
  return { name, status: 'skipped', ms: 0, detail: why };
}

/** Formats seconds for a detail line: "0.25 s", "12.3 s". */
export function seconds(ms: number): string {
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(2) : s.toFixed(1)} s`;
}

/** Waits `ms`, or until `until` settles if that is sooner; the timer never outlives the wait. */
export async function waitAtMost(ms: number, until: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms));
  });
  try {
    await Promise.race([until, elapsed]);
  } finally {
    clearTimeout(timer);
  }
}
