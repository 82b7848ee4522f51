// A raw node:http2 server on 127.0.0.1 that answers gRPC requests the way broken servers and proxies
// do: RST_STREAM, GOAWAY, HTTP error pages, 200 without grpc-status. Also a plain HTTP/1.1 server.

import { createServer as createHttp1Server, type Server as Http1Server } from 'node:http';
import {
  constants,
  createServer,
  type Http2Server,
  type Http2Session,
  type IncomingHttpHeaders,
  type ServerHttp2Stream,
} from 'node:http2';
import { listenLoopback } from './listen.js';

export type RawHandler = (
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  session: Http2Session,
) => void;

export const H2 = constants;

export class RawH2Server {
  port = 0;
  requests = 0;
  readonly #server: Http2Server;
  readonly #sessions = new Set<Http2Session>();

  constructor(handler: RawHandler) {
    this.#server = createServer();
    this.#server.on('session', (session) => {
      this.#sessions.add(session);
      session.on('error', () => {});
      session.on('close', () => this.#sessions.delete(session));
    });
    this.#server.on('stream', (stream, headers) => {
      this.requests += 1;
      stream.on('error', () => {});
      handler(stream, headers, stream.session as Http2Session);
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenLoopback(this.#server);
    return this;
  }

  /** Sends GOAWAY on every open session (as a draining server does). */
  goawayAll(code: number, data = ''): void {
    for (const session of this.#sessions) if (!session.destroyed) session.goaway(code, 0, Buffer.from(data));
  }

  async close(): Promise<void> {
    for (const session of this.#sessions) session.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** Handlers for the faults the classifier must tell apart. */
export const answers = {
  rstStream:
    (code: number): RawHandler =>
    (stream) =>
      stream.close(code),
  goaway:
    (code: number, data = ''): RawHandler =>
    (_stream, _headers, session) =>
      session.goaway(code, 0, Buffer.from(data)),
  httpError:
    (status: number, contentType = 'text/html', body = '<html>bad gateway</html>'): RawHandler =>
    (stream) => {
      stream.respond({ ':status': status, 'content-type': contentType });
      stream.end(body);
    },
  /** 200 with gRPC headers and an empty message, but the stream ends without grpc-status trailers. */
  noGrpcStatus: (): RawHandler => (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.end();
  },
  /** A stream that is accepted and then never answered. */
  silent: (): RawHandler => () => {},
};

/** A plain HTTP/1.1 server, as a misrouted port or a non-gRPC backend. */
export class Http1Target {
  port = 0;
  readonly #server: Http1Server = createHttp1Server((_req, res) => {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenLoopback(this.#server);
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

/** gRPC answers a raw server can give on purpose (a real status, an oversized message). */
export const grpcAnswers = {
  /** Trailers-only response with the given status. */
  status:
    (code: number, message: string): RawHandler =>
    (stream) => {
      stream.respond(
        {
          ':status': 200,
          'content-type': 'application/grpc',
          'grpc-status': String(code),
          'grpc-message': message,
        },
        { endStream: true },
      );
    },
  /** A message whose length prefix says `length` bytes: more than the client's 4 MiB receive limit. */
  oversized:
    (length = 5 * 1024 * 1024): RawHandler =>
    (stream) => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
      const header = Buffer.alloc(5);
      header.writeUInt32BE(length, 1);
      stream.write(header);
      stream.write(Buffer.alloc(1024));
    },
  /** Answers Watch with SERVING and keeps the stream open, so faults can hit a live stream. */
  servingStream: (): RawHandler => (stream) => {
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' });
    stream.write(Buffer.from([0, 0, 0, 0, 2, 8, 1]));
  },
};
