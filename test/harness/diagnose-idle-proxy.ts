// A TCP proxy on 127.0.0.1 that drops connections idle (no bytes either way) for `idleMs`, the way a
// cloud LB, NAT gateway or conntrack table does: with a FIN ('close') or a TCP RST ('reset'), never an
// HTTP/2 GOAWAY. Records when it dropped each connection.

import { createServer, type Server, Socket } from 'node:net';
import { listenLoopback } from './listen.js';

export class IdleClosingProxy {
  port = 0;
  /** performance.now() - last activity of each connection it dropped, in ms. */
  readonly droppedAfterMs: number[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  constructor(
    readonly upstreamPort: number,
    readonly idleMs: number,
    readonly how: 'close' | 'reset',
  ) {
    this.#server = createServer((client) => this.#accept(client));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await listenLoopback(this.#server);
    return this;
  }

  #accept(client: Socket): void {
    const upstream = new Socket();
    this.#sockets.add(client).add(upstream);
    client.on('close', () => this.#sockets.delete(client));
    upstream.on('close', () => this.#sockets.delete(upstream));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    let last = performance.now();
    const drop = () => {
      this.droppedAfterMs.push(performance.now() - last);
      upstream.destroy();
      if (this.how === 'reset') client.resetAndDestroy();
      else client.end();
    };
    const timer = setTimeout(drop, this.idleMs);
    const active = () => {
      last = performance.now();
      timer.refresh();
    };
    client.on('data', (chunk) => {
      active();
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      active();
      client.write(chunk);
    });
    client.on('close', () => clearTimeout(timer));
    upstream.on('close', () => {
      clearTimeout(timer);
      client.destroy();
    });
    upstream.connect(this.upstreamPort, '127.0.0.1');
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
