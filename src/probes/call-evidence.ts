// What the client saw of one call, recorded by a grpc-js client interceptor (the public API): whether
// response headers arrived and with what content-type, how many messages, and whether the final status
// came from the server (status-provenance.ts). The classifier reads it; probes never parse it.

import { InterceptingCall, type Interceptor, type StatusObject } from '@grpc/grpc-js';
import { statusProvenance } from '../connection/status-provenance.js';
import { traceTap } from '../connection/trace-tap.js';

export interface CallEvidence {
  /** Response headers arrived before the end (not a trailers-only answer). */
  headers: boolean;
  /** Their content-type, when they arrived. */
  contentType?: string;
  /** Response messages that arrived (and were decoded). */
  messages: number;
  /**
   * Who produced the status the interceptor saw: `server` (trailers with grpc-status), `client`
   * (grpc-js synthesized it); undefined when the provenance tracer is off.
   */
  origin?: 'server' | 'client';
  /** The status the interceptor saw (grpc-js may still replace an OK with its own, above it). */
  status?: { code: number; details: string };
  /** performance.now() when the call started. */
  startedAt: number;
}

/**
 * A fresh evidence record and the interceptor that fills it. onMessage (unary calls) sees every
 * message count, and the interceptor reads past the first message so a second one shows.
 */
export function recordCall(onMessage?: (count: number) => void): {
  evidence: CallEvidence;
  interceptor: Interceptor;
} {
  const evidence: CallEvidence = { headers: false, messages: 0, startedAt: performance.now() };
  const interceptor: Interceptor = (options, nextCall) => {
    const call: InterceptingCall = new InterceptingCall(nextCall(options), {
      start(metadata, _listener, next) {
        next(metadata, {
          onReceiveMetadata(received, nextMetadata) {
            evidence.headers = true;
            const type = received.get('content-type')[0];
            if (typeof type === 'string') evidence.contentType = type;
            nextMetadata(received);
          },
          onReceiveMessage(message, nextMessage) {
            evidence.messages += 1;
            onMessage?.(evidence.messages);
            nextMessage(message);
            // A unary caller reads one message and then waits for the status, so a second message
            // would sit unread until the deadline: read on, to see it (or the status) at once.
            if (onMessage) call.startRead();
          },
          onReceiveStatus(status: StatusObject, nextStatus) {
            evidence.status = { code: status.code, details: status.details };
            // Claimed here, synchronously: the ledger entry was written just before this callback.
            if (traceTap.tracingProvenance)
              evidence.origin = statusProvenance.claim(status.code, status.details) ? 'server' : 'client';
            nextStatus(status);
          },
        });
      },
    });
    return call;
  };
  return { evidence, interceptor };
}
