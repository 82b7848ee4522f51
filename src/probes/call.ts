// One gRPC call with a deadline, as data: every way a call can end becomes a CallOutcome, never an
// exception. Shared by the health Check probe, the synthetic unary probes and `grpc-pulse check`.

import { type Client, type Metadata, type ServiceError, status as Status } from '@grpc/grpc-js';
import { type CallEvidence, recordCall } from './call-evidence.js';

export interface UnaryMethod<Req, Res> {
  path: string;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

export type CallOutcome<Res> =
  | { kind: 'ok'; response: Res; durationSeconds: number }
  | { kind: 'error'; code: number; details: string; durationSeconds: number; evidence: CallEvidence }
  /** We cancelled it (shutdown, reload): not a verdict on the target. */
  | { kind: 'cancelled' };

export interface CallOptions {
  deadlineMs: number;
  metadata: Metadata;
  signal: AbortSignal;
}

export function callUnary<Req, Res>(
  client: Client,
  method: UnaryMethod<Req, Res>,
  request: Req,
  options: CallOptions,
): Promise<CallOutcome<Res>> {
  if (options.signal.aborted) return Promise.resolve({ kind: 'cancelled' });
  return new Promise((resolve) => {
    const started = performance.now();
    const elapsed = () => (performance.now() - started) / 1000;
    let settled = false;
    const settle = (outcome: CallOutcome<Res>) => {
      if (settled) return;
      settled = true;
      options.signal.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    // A second message on a unary call is a protocol violation; grpc-js then waits out the deadline
    // (1.14's client.ts cancels a call that no longer answers), so the verdict is given at once.
    const { evidence, interceptor } = recordCall((count) => {
      if (count < 2) return;
      settle({
        kind: 'error',
        code: Status.UNIMPLEMENTED,
        details: 'Too many responses received',
        durationSeconds: elapsed(),
        evidence,
      });
      call.cancel();
    });
    const call = client.makeUnaryRequest(
      method.path,
      method.requestSerialize,
      method.responseDeserialize,
      request,
      options.metadata,
      { deadline: Date.now() + options.deadlineMs, interceptors: [interceptor] },
      (error: ServiceError | null, response?: Res) => {
        const durationSeconds = elapsed();
        if (options.signal.aborted && error?.code === Status.CANCELLED) settle({ kind: 'cancelled' });
        else if (error)
          settle({ kind: 'error', code: error.code, details: error.details, durationSeconds, evidence });
        else settle({ kind: 'ok', response: response as Res, durationSeconds });
      },
    );
    const onAbort = () => call.cancel();
    options.signal.addEventListener('abort', onAbort, { once: true });
  });
}
