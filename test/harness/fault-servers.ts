// Fault servers for the classifier: gRPC answers written frame by frame on node:http2 (statuses with
// misleading text, protocol violations, GOAWAY under a live call), raw TCP peers that speak something
// other than HTTP/2, TLS peers that break the handshake, and a real grpc-js server whose health
// service answers a chosen status. Everything listens on 127.0.0.1 with an ephemeral port.

import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer } from 'node:tls';
import { Server, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { listenLoopback } from './listen.js';
import { H2, type RawHandler } from './raw-h2-server.js';

/** HealthCheckResponse { status: SERVING } on the wire. */
export const SERVING_BYTES = Buffer.from([0x08, 0x01]);
export const NOT_SERVING_BYTES = Buffer.from([0x08, 0x02]);

/** A length-prefixed gRPC message (flag byte, 4-byte big-endian length, bytes). */
export function grpcFrame(message: Buffer, compressedFlag = 0): Buffer {
  const header = Buffer.alloc(5);
  header[0] = compressedFlag;
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** grpc-message as the gRPC spec percent-encodes it: only bytes outside printable ASCII, and '%'. */
export function grpcMessage(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      b >= 0x20 && b <= 0x7e && b !== 0x25
        ? String.fromCharCode(b)
        : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
    )
    .join('');
}

const GRPC_HEADERS = { ':status': 200, 'content-type': 'application/grpc' } as const;

/** One scripted response: headers, data chunks, then trailers or an end without them. */
export interface Script {
  headers?: Record<string, string | number>;
  body?: Buffer[];
  /** Trailers to send; undefined ends the stream after the body without any. */
  trailers?: Record<string, string>;
}

/** Answers every stream with the script (headers, body, trailers). */
export function scripted(script: Script): RawHandler {
  return (stream) => {
    const trailers = script.trailers;
    stream.respond(script.headers ?? GRPC_HEADERS, trailers ? { waitForTrailers: true } : {});
    if (trailers) stream.on('wantTrailers', () => stream.sendTrailers(trailers));
    for (const chunk of script.body ?? []) stream.write(chunk);
    stream.end();
  };
}

/** Server-sent statuses: trailers-only, or headers then trailers (as grpc-go and grpc-js do). */
export const sent = {
  trailersOnly:
    (code: number | string, message: string): RawHandler =>
    (stream) =>
      stream.respond(
        { ...GRPC_HEADERS, 'grpc-status': String(code), 'grpc-message': grpcMessage(message) },
        { endStream: true },
      ),
  afterHeaders: (code: number | string, message: string): RawHandler =>
    scripted({ trailers: { 'grpc-status': String(code), 'grpc-message': grpcMessage(message) } }),
  /** A response message, then the status. */
  messageThen: (message: Buffer, code = 0): RawHandler =>
    scripted({ body: [grpcFrame(message)], trailers: { 'grpc-status': String(code) } }),
};

/**
 * Answers the first `healthy` streams with SERVING, then runs `fault` on the later ones: faults that
 * need a live connection (GOAWAY or a reset under a call on a connection that was READY).
 */
export function afterServing(healthy: number, fault: RawHandler): RawHandler {
  let seen = 0;
  return (stream, headers, session) => {
    seen += 1;
    if (seen <= healthy) sent.messageThen(SERVING_BYTES)(stream, headers, session);
    else fault(stream, headers, session);
  };
}

/** GOAWAY with `code` naming the last stream as processed, then the connection closes under the call. */
export function goawayUnderCall(code: number, data = ''): RawHandler {
  return (stream, _headers, session) => {
    stream.respond(GRPC_HEADERS);
    session.goaway(code, stream.id ?? 0, Buffer.from(data));
    setTimeout(() => session.destroy(), 20).unref();
  };
}

/** GOAWAY with `code` saying no stream was processed (last stream id 0): the call was never served. */
export function goawayRefusing(code: number, data = ''): RawHandler {
  return (_stream, _headers, session) => {
    session.goaway(code, 0, Buffer.from(data));
    setTimeout(() => session.destroy(), 20).unref();
  };
}

/** Headers, then the TCP connection dies under the call: `rst` resets it, otherwise a FIN. */
export function dropUnderCall(kind: 'rst' | 'fin'): RawHandler {
  return (stream, _headers, session) => {
    stream.respond(GRPC_HEADERS);
    setTimeout(() => {
      const socket = (session as unknown as { socket: Socket }).socket;
      if (kind === 'rst') {
        // The session's socket is a proxy that refuses some calls; destroy its handle with RST.
        (socket as unknown as { resetAndDestroy?: () => void }).resetAndDestroy?.();
      }
      session.destroy();
    }, 20).unref();
  };
}

/** A raw TCP peer: what it does with each connection. */
export class TcpPeer {
  port = 0;
  readonly #server: NetServer;
  readonly #sockets = new Set<Socket>();

  constructor(onConnection: (socket: Socket) => void) {
    this.#server = createNetServer((socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.#sockets.delete(socket));
      onConnection(socket);
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenLoopback(this.#server);
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Peers that are not HTTP/2 servers. */
export const peers = {
  /** Accepts and never says a word (nor reads). */
  silent: () => new TcpPeer(() => {}),
  /** An HTTP/1.1 server that does not speak h2c: answers the preface with 400 and closes. */
  http1BadRequest: () =>
    new TcpPeer((socket) =>
      socket.once('data', () =>
        socket.end('HTTP/1.1 400 Bad Request\r\nContent-Length: 11\r\nConnection: close\r\n\r\nBad Request'),
      ),
    ),
  /** An SSH server: banner first, then "Protocol mismatch." at the preface. */
  ssh: () =>
    new TcpPeer((socket) => {
      socket.write('SSH-2.0-OpenSSH_9.2p1\r\n');
      socket.once('data', () => socket.end('Protocol mismatch.\n'));
    }),
  /** Bytes that are not an HTTP/2 frame at all. */
  garbage: () =>
    new TcpPeer((socket) => {
      socket.write(Buffer.from('this is not http/2 at all, just a line of text\r\n'.repeat(4)));
    }),
  /** Reads the preface, then closes cleanly (FIN). */
  finAfterPreface: () => new TcpPeer((socket) => socket.once('data', () => socket.end())),
  /** Reads the preface, then resets (RST). */
  rstAfterPreface: () => new TcpPeer((socket) => socket.once('data', () => socket.resetAndDestroy())),
};

/** A TLS peer that completes the handshake (or not) and then behaves as `after`. */
export class TlsPeer {
  port = 0;
  readonly #server: TlsServer;
  readonly #sockets = new Set<Socket>();

  constructor(
    options: { cert: Buffer; key: Buffer; ca?: Buffer; requestCert?: boolean; alpn?: string[] },
    after: (socket: Socket) => void = () => {},
  ) {
    this.#server = createTlsServer(
      {
        cert: options.cert,
        key: options.key,
        ...(options.ca ? { ca: options.ca } : {}),
        requestCert: options.requestCert ?? false,
        rejectUnauthorized: options.requestCert ?? false,
        ...(options.alpn ? { ALPNProtocols: options.alpn } : {}),
      },
      (socket) => after(socket),
    );
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => this.#sockets.delete(socket));
    });
    this.#server.on('tlsClientError', () => {});
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenLoopback(this.#server);
    return this;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** A real grpc-js server whose health Check (and Watch) answers with the given error status. */
export class StatusServer {
  port = 0;
  readonly #server = new Server();

  constructor(code: number, details: string) {
    const fail = (): ServiceError =>
      Object.assign(new Error(details), { code, details, metadata: undefined as never });
    this.#server.addService(healthService, {
      check: (_call: unknown, callback: (err: ServiceError) => void) => callback(fail()),
      watch: (call: { destroy(err: ServiceError): void; emit(e: string, err: ServiceError): void }) =>
        call.emit('error', fail()),
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    return this;
  }

  async close(): Promise<void> {
    this.#server.forceShutdown();
  }
}

export { H2 };
