// A TCP proxy on 127.0.0.1 between a probe and its server, to inject transport faults: reset (RST),
// close (FIN), freeze both directions, or misbehave on accept. Counts accepted connections.

import { createServer, type Server, Socket } from 'node:net';
import { listenLoopback } from './listen.js';

/** What the proxy does with a connection it accepts. */
export type AcceptMode = 'forward' | 'reset' | 'close' | 'silent';

export class TcpProxy {
  accepted = 0;
  mode: AcceptMode = 'forward';
  readonly #server: Server;
  readonly #pairs = new Set<{ client: Socket; upstream?: Socket }>();
  #frozen = false;
  port = 0;

  constructor(readonly upstreamPort: number) {
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
    this.accepted += 1;
    client.on('error', () => {});
    const pair: { client: Socket; upstream?: Socket } = { client };
    this.#pairs.add(pair);
    client.on('close', () => this.#pairs.delete(pair));
    switch (this.mode) {
      case 'reset':
        client.resetAndDestroy();
        return;
      case 'close':
        client.end();
        return;
      case 'silent':
        return; // accept, read nothing, say nothing
      case 'forward': {
        const upstream = new Socket();
        pair.upstream = upstream;
        upstream.on('error', () => client.destroy());
        upstream.connect(this.upstreamPort, '127.0.0.1');
        client.pipe(upstream);
        upstream.pipe(client);
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        if (this.#frozen) this.#freezePair(pair);
      }
    }
  }

  #freezePair(pair: { client: Socket; upstream?: Socket }): void {
    pair.client.unpipe();
    pair.upstream?.unpipe();
    pair.client.pause();
    pair.upstream?.pause();
  }

  /** Sends a TCP RST to every open client connection (upstream is closed quietly). */
  resetAll(): void {
    for (const { client, upstream } of this.#pairs) {
      client.resetAndDestroy();
      upstream?.destroy();
    }
  }

  /** Closes every client connection cleanly (FIN), as a dropped connection or EOF looks. */
  closeAll(): void {
    for (const { client, upstream } of this.#pairs) {
      client.end();
      upstream?.destroy();
    }
  }

  /** Stops moving bytes either way on every connection, open and new: a frozen link. */
  freeze(): void {
    this.#frozen = true;
    for (const pair of this.#pairs) this.#freezePair(pair);
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.#pairs) {
      client.destroy();
      upstream?.destroy();
    }
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
