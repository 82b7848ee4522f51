// A raw node:http2 client session over a socket diagnose owns, so it sees what grpc-js hides: the
// server's SETTINGS, PING round trips, GOAWAY with its code and debug data, and how the TCP connection
// ended (FIN is the socket's 'end', RST is ECONNRESET). Used by the http2 step and the discovery tests.

import {
  type ClientHttp2Session,
  type ClientHttp2Stream,
  connect,
  constants,
  type Settings,
} from 'node:http2';
import type { Socket } from 'node:net';
import { authorityOf, type Endpoint, openSocket } from './endpoint.js';

/** How a session ended, first evidence wins; `atMs` counts from the moment SETTINGS arrived. */
export type SessionEnd =
  | { kind: 'goaway'; code: number; data: string; atMs: number }
  | { kind: 'fin'; atMs: number }
  | { kind: 'rst'; atMs: number }
  | { kind: 'error'; message: string; atMs: number };

export const GOAWAY_NO_ERROR = constants.NGHTTP2_NO_ERROR;
export const GOAWAY_ENHANCE_YOUR_CALM = constants.NGHTTP2_ENHANCE_YOUR_CALM;

export type OpenedSession =
  | { session: RawSession }
  /** `closed`: the peer ended the connection (FIN) before its SETTINGS. */
  | { error: string; timeout: boolean; closed?: boolean };

export class RawSession {
  /** The server's SETTINGS frame. */
  readonly settings: Settings;
  /** performance.now() when the server's SETTINGS arrived: the start of idleness. */
  readonly readyAt: number;
  /** Resolves with the first sign of the end; never rejects. */
  readonly ended: Promise<SessionEnd>;
  end: SessionEnd | undefined;
  readonly #session: ClientHttp2Session;
  readonly #authority: string;
  readonly #scheme: string;
  /** We are closing it: what follows is not the peer's doing. */
  #closing = false;

  private constructor(session: ClientHttp2Session, socket: Socket, settings: Settings, endpoint: Endpoint) {
    this.#session = session;
    this.settings = settings;
    this.readyAt = performance.now();
    this.#authority = authorityOf(endpoint);
    this.#scheme = endpoint.tls ? 'https' : 'http';
    this.ended = new Promise((resolve) => {
      const finish = (end: SessionEnd) => {
        if (this.end || this.#closing) return;
        this.end = end;
        resolve(end);
      };
      const at = () => Math.round(performance.now() - this.readyAt);
      session.on('goaway', (code: number, _lastStreamId: number, data?: Buffer) =>
        finish({ kind: 'goaway', code, data: data?.toString('latin1') ?? '', atMs: at() }),
      );
      // The socket is ours: 'end' is the peer's FIN, ECONNRESET is its RST.
      socket.on('end', () => finish({ kind: 'fin', atMs: at() }));
      socket.on('error', (err: NodeJS.ErrnoException) =>
        finish(
          err.code === 'ECONNRESET'
            ? { kind: 'rst', atMs: at() }
            : { kind: 'error', message: err.message, atMs: at() },
        ),
      );
      session.on('error', (err: NodeJS.ErrnoException) =>
        finish(
          err.code === 'ECONNRESET'
            ? { kind: 'rst', atMs: at() }
            : { kind: 'error', message: err.message, atMs: at() },
        ),
      );
      session.on('close', () => finish({ kind: 'fin', atMs: at() }));
    });
  }

  /** Connects, handshakes and waits for the server's SETTINGS, all within `timeoutMs`. Never throws. */
  static async open(endpoint: Endpoint, timeoutMs: number): Promise<OpenedSession> {
    const deadline = performance.now() + timeoutMs;
    const opened = await openSocket(endpoint, timeoutMs);
    if ('error' in opened) return opened;
    const socket = opened.socket;
    return new Promise((resolve) => {
      const session = connect(`${endpoint.tls ? 'https' : 'http'}://${authorityOf(endpoint)}`, {
        createConnection: () => socket,
      });
      let settled = false;
      const fail = (error: string, timeout: boolean, closed = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        session.destroy();
        socket.destroy();
        resolve({ error, timeout, ...(closed ? { closed } : {}) });
      };
      const timer = setTimeout(
        () => fail(`no HTTP/2 SETTINGS within ${timeoutMs} ms`, true),
        Math.max(1, deadline - performance.now()),
      );
      session.on('error', (err) => fail(err.message, false));
      // A TLS alert after the handshake (TLS 1.3: "certificate required" from an mTLS server) arrives
      // on the socket, which the session does not always pass on.
      socket.on('error', (err) => fail(err.message, false));
      session.once('close', () => fail('the connection closed before the server sent SETTINGS', false, true));
      socket.once('end', () =>
        fail('the server closed the connection (FIN) before sending SETTINGS', false, true),
      );
      session.once('remoteSettings', (settings) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        // The listeners above stay: once settled they do nothing, and they keep errors from throwing.
        resolve({ session: new RawSession(session, socket, settings, endpoint) });
      });
    });
  }

  /** One PING; its round trip in ms, or undefined if it failed or took longer than `timeoutMs`. */
  ping(timeoutMs: number): Promise<number | undefined> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), timeoutMs);
      try {
        const sent = this.#session.ping((err, duration) => {
          clearTimeout(timer);
          resolve(err ? undefined : duration);
        });
        if (!sent) {
          clearTimeout(timer);
          resolve(undefined);
        }
      } catch {
        clearTimeout(timer);
        resolve(undefined);
      }
    });
  }

  /**
   * Opens grpc.health.v1.Health/Watch for `service` and keeps it open: a call in flight, as the daemon
   * has one. Resolves true once the first message arrived, false if the stream ended or failed first.
   */
  openWatch(service: string, metadata: Record<string, string>, timeoutMs: number): Promise<boolean> {
    return this.#healthCall('Watch', service, metadata, timeoutMs, (stream, done) =>
      stream.once('data', () => done(true)),
    );
  }

  /**
   * One grpc.health.v1.Health/Check, to completion. The server sends HEADERS and DATA, which is what
   * resets its ping strikes (gRFC A8; grpc-go and C-core both). Resolves true once the stream closed.
   */
  check(service: string, metadata: Record<string, string>, timeoutMs: number): Promise<boolean> {
    return this.#healthCall('Check', service, metadata, timeoutMs, (stream, done) => {
      stream.resume();
      stream.once('end', () => done(true));
    });
  }

  #healthCall(
    method: 'Check' | 'Watch',
    service: string,
    metadata: Record<string, string>,
    timeoutMs: number,
    onStream: (stream: ClientHttp2Stream, done: (ok: boolean) => void) => void,
  ): Promise<boolean> {
    return new Promise((resolve) => {
      let stream: ClientHttp2Stream;
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const done = (ok: boolean) => {
        clearTimeout(timer);
        resolve(ok);
      };
      try {
        stream = this.#session.request({
          ...metadata,
          ':method': 'POST',
          ':scheme': this.#scheme,
          ':authority': this.#authority,
          ':path': `/grpc.health.v1.Health/${method}`,
          'content-type': 'application/grpc',
          te: 'trailers',
        });
      } catch {
        return done(false);
      }
      onStream(stream, done);
      stream.on('error', () => done(false));
      stream.on('close', () => done(false));
      stream.end(grpcFrame(healthRequest(service)));
    });
  }

  close(): void {
    this.#closing = true;
    this.#session.destroy();
  }
}

/** HealthCheckRequest { service } in protobuf wire format: field 1, length-delimited. */
function healthRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  if (name.length === 0) return Buffer.alloc(0);
  return Buffer.concat([Buffer.from([0x0a]), varint(name.length), name]);
}

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  while (v > 0x7f) {
    bytes.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

/** A gRPC length-prefixed message, uncompressed. */
function grpcFrame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}
