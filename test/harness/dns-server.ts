// A DNS server on 127.0.0.1 (UDP) that answers every query NXDOMAIN: name resolution that fails for
// real without any traffic leaving the machine. grpc-js asks it for `dns://127.0.0.1:PORT/name:port`
// targets when GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true (set in vitest.config.ts).

import { createSocket, type Socket } from 'node:dgram';

export class NxdomainDnsServer {
  port = 0;
  queries = 0;
  readonly #socket: Socket = createSocket('udp4');

  /** rcode: 3 NXDOMAIN (the default), 2 SERVFAIL, 5 REFUSED. */
  constructor(readonly rcode = 3) {}

  async start(): Promise<this> {
    this.#socket.on('message', (query, peer) => {
      this.queries += 1;
      if (query.length < 12) return;
      // Answer with the header and the question only (drop any EDNS record the query carried).
      let end = 12;
      while (end < query.length && query[end] !== 0) end += (query[end] ?? 0) + 1;
      const answer = Buffer.from(query.subarray(0, Math.min(query.length, end + 5)));
      // Header: keep the id and RD, set QR=1 (response) and RA=1, and the RCODE; no answers.
      answer[2] = 0x80 | ((query[2] ?? 0) & 0x01);
      answer[3] = 0x80 | (this.rcode & 0x0f);
      answer.writeUInt16BE(1, 4);
      answer.writeUInt16BE(0, 6);
      answer.writeUInt16BE(0, 8);
      answer.writeUInt16BE(0, 10);
      this.#socket.send(answer, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    this.port = this.#socket.address().port;
    return this;
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
