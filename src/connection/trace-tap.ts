// Collects the disconnect evidence that grpc-js writes only to its trace log (GOAWAY code and debug
// data, socket errors, keepalive ping timeouts), keyed by channelz socket id. grpc-js has one global
// logger, so there is one tap per process; it forwards grpc-js's own non-trace messages to pino.

import { logVerbosity, setLogger, setLogVerbosity } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { statusProvenance } from './status-provenance.js';

/** What the transport said about how a socket ended, most telling first. */
export type TransportEvidence =
  | { kind: 'keepalive_timeout' }
  | { kind: 'goaway'; code: number; data: string }
  | { kind: 'error'; message: string }
  | { kind: 'closed' };

const RANK: Record<TransportEvidence['kind'], number> = {
  keepalive_timeout: 3,
  goaway: 2,
  error: 1,
  closed: 0,
};

/** `<time> | v1.14.7 <pid> | transport | (12) 127.0.0.1:50051 connection closed by GOAWAY ...` */
const TRACE_RE = /\| (transport|keepalive) \| \((\d+)\) \S+ (.*)$/s;
const GOAWAY_RE = /^connection closed by GOAWAY with code (\d+) and data (.*)$/s;
/** Evidence older than this is of a socket that is long gone. */
const KEEP_MS = 60_000;
/** Hard cap on remembered sockets, whatever happens to the clock. */
const MAX_SOCKETS = 10_000;

/** Parses one transport/keepalive trace line; undefined if it says nothing about a disconnect. */
export function parseTraceLine(line: string): { socketId: number; evidence: TransportEvidence } | undefined {
  const match = TRACE_RE.exec(line);
  if (!match) return undefined;
  const socketId = Number(match[2]);
  const text = (match[3] ?? '').trim();
  const goaway = GOAWAY_RE.exec(text);
  if (goaway) {
    const data = goaway[2] === 'undefined' ? '' : (goaway[2] ?? '');
    return { socketId, evidence: { kind: 'goaway', code: Number(goaway[1]), data } };
  }
  if (text === 'Ping timeout passed without response')
    return { socketId, evidence: { kind: 'keepalive_timeout' } };
  if (text.startsWith('Ping failed with error') || text.startsWith('Ping send failed')) {
    return { socketId, evidence: { kind: 'keepalive_timeout' } };
  }
  if (text.startsWith('connection closed with error ')) {
    return {
      socketId,
      evidence: { kind: 'error', message: text.slice('connection closed with error '.length) },
    };
  }
  if (text.startsWith('connection closed. hadError=') || text === 'session closed') {
    return { socketId, evidence: { kind: 'closed' } };
  }
  return undefined;
}

class TraceTap {
  readonly #evidence = new Map<number, { evidence: TransportEvidence; at: number }>();
  #log: Logger | undefined;
  #installed = false;
  /** grpc-js reads its tracer list once, at load; so is this, at first use. */
  #provenance: boolean | undefined;

  /** Whether grpc-js was loaded with the tracers on (see trace-env.ts). */
  get tracing(): boolean {
    const names = (process.env.GRPC_NODE_TRACE ?? process.env.GRPC_TRACE ?? '').split(',');
    return names.includes('all') || names.includes('transport');
  }

  /** Whether grpc-js traces where statuses come from (status-provenance.ts) and the tap reads it. */
  get tracingProvenance(): boolean {
    if (!this.#installed) return false;
    this.#provenance ??= (() => {
      const names = (process.env.GRPC_NODE_TRACE ?? process.env.GRPC_TRACE ?? '').split(',');
      return names.includes('all') || names.includes('subchannel_call');
    })();
    return this.#provenance;
  }

  /** Takes over grpc-js's logger; without a logger (the one-shot check) its own messages are dropped. */
  install(log?: Logger): void {
    if (log) this.#log = log;
    if (this.#installed) return;
    this.#installed = true;
    setLogVerbosity(logVerbosity.DEBUG);
    const onLine = (severity: 'debug' | 'info' | 'error') => (message: unknown) =>
      this.#onLine(severity, String(message));
    setLogger({ debug: onLine('debug'), info: onLine('info'), error: onLine('error') });
  }

  /** Returns and forgets what is known of how a socket ended. */
  take(socketId: number): TransportEvidence | undefined {
    const found = this.#evidence.get(socketId);
    this.#evidence.delete(socketId);
    return found?.evidence;
  }

  #onLine(severity: 'debug' | 'info' | 'error', line: string): void {
    // Per-call lines: fed to the provenance ledger, never logged (they carry response headers).
    if (statusProvenance.onTraceLine(line)) return;
    const parsed = parseTraceLine(line);
    if (parsed) {
      this.#remember(parsed.socketId, parsed.evidence);
      return;
    }
    // Other tracer lines are chatter at DEBUG; grpc-js's own warnings and errors are worth keeping.
    if (severity === 'error') this.#log?.warn({ grpc: line }, 'grpc-js reported an error');
    else if (!line.includes(' | transport | ') && !line.includes(' | keepalive | '))
      this.#log?.trace({ grpc: line }, 'grpc-js');
  }

  #remember(socketId: number, evidence: TransportEvidence): void {
    const now = performance.now();
    const known = this.#evidence.get(socketId);
    if (known && RANK[known.evidence.kind] >= RANK[evidence.kind]) return;
    this.#evidence.delete(socketId);
    this.#evidence.set(socketId, { evidence, at: now });
    // Oldest first (insertion order): drop what is stale or over the cap.
    for (const [id, entry] of this.#evidence) {
      if (now - entry.at < KEEP_MS && this.#evidence.size <= MAX_SOCKETS) break;
      this.#evidence.delete(id);
    }
  }
}

/** The process-wide tap (grpc-js has exactly one logger). */
export const traceTap = new TraceTap();
