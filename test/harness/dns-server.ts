// DNS servers on 127.0.0.1, so name resolution succeeds or fails for real without any traffic leaving
// the machine: one that answers every query NXDOMAIN, and one that answers names with the A and AAAA
// records a test sets. grpc-js asks them for `dns://127.0.0.1:PORT/name:port` targets when
// GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true (set in vitest.config.ts); fan-out resolves through them too.

import { createSocket, type Socket } from 'node:dgram';
import {
  createServer as createNetServer,
  type Server as NetServer,
  type Socket as NetSocket,
} from 'node:net';

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

/** Records a RecordsDnsServer answers for one name. */
export interface DnsRecords {
  a?: string[];
  aaaa?: string[];
}

/** What the server does with a query: answer it, ignore it (a timeout), or answer SERVFAIL. */
export type DnsMode = 'answer' | 'drop' | 'servfail';

const TYPE_A = 1;
const TYPE_AAAA = 28;
const TYPE_OPT = 41;
/** RFC 1035: a UDP answer larger than this (or than the EDNS size the query offers) is truncated. */
const UDP_LIMIT = 512;

/**
 * An authoritative DNS server on 127.0.0.1 (UDP and TCP on one port) that answers names with the A and
 * AAAA records a test sets, changeable at run time; unknown names get NXDOMAIN. stop() closes the port
 * (queries are refused), start() opens the same port again.
 */
export class RecordsDnsServer {
  port = 0;
  /** Queries received, by record type name (A, AAAA, other). */
  readonly queries = { A: 0, AAAA: 0, other: 0 };
  mode: DnsMode = 'answer';
  /** Queries that came over TCP (after a truncated UDP answer). */
  tcpQueries = 0;
  /** Overrides `mode` for one record type (AAAA failing while A answers). */
  readonly modeFor: Partial<Record<'A' | 'AAAA', DnsMode>> = {};
  readonly #records = new Map<string, DnsRecords>();
  #udp: Socket | undefined;
  #tcp: NetServer | undefined;
  readonly #tcpSockets = new Set<NetSocket>();

  /** Sets (replaces) the records of `name`; an empty object makes it exist with no records (NODATA). */
  set(name: string, records: DnsRecords): this {
    this.#records.set(name.toLowerCase().replace(/\.$/, ''), records);
    return this;
  }

  /** Removes `name`: it answers NXDOMAIN from now on. */
  delete(name: string): void {
    this.#records.delete(name.toLowerCase().replace(/\.$/, ''));
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    // UDP and TCP must share the port: retry (bounded) when the OS's choice is taken for TCP.
    for (let attempt = 0; attempt < 20; attempt++) {
      const udp = createSocket('udp4');
      udp.on('message', (query, peer) => {
        const answer = this.#answer(query, ednsSize(query));
        if (answer) udp.send(answer, peer.port, peer.address);
      });
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(this.port, '127.0.0.1', () => resolve());
      });
      const port = udp.address().port;
      const tcp = createNetServer((socket) => this.#serveTcp(socket));
      const bound = await new Promise<boolean>((resolve) => {
        tcp.once('error', () => resolve(false));
        tcp.listen(port, '127.0.0.1', () => resolve(true));
      });
      if (bound) {
        this.#udp = udp;
        this.#tcp = tcp;
        this.port = port;
        return this;
      }
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (this.port !== 0) throw new Error(`TCP port ${this.port} is taken`);
    }
    throw new Error('no port free for both UDP and TCP');
  }

  /** Closes the port (the server is "down"); start() reopens the same port. */
  async stop(): Promise<void> {
    const udp = this.#udp;
    const tcp = this.#tcp;
    this.#udp = undefined;
    this.#tcp = undefined;
    for (const socket of this.#tcpSockets) socket.destroy();
    await Promise.all([
      udp && new Promise<void>((resolve) => udp.close(() => resolve())),
      tcp && new Promise<void>((resolve) => tcp.close(() => resolve())),
    ]);
  }

  close(): Promise<void> {
    return this.stop();
  }

  #serveTcp(socket: NetSocket): void {
    this.#tcpSockets.add(socket);
    socket.on('close', () => this.#tcpSockets.delete(socket));
    socket.on('error', () => {});
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      while (buffered.length >= 2) {
        const length = buffered.readUInt16BE(0);
        if (buffered.length < 2 + length) return;
        this.tcpQueries += 1;
        const answer = this.#answer(buffered.subarray(2, 2 + length), 65535);
        buffered = buffered.subarray(2 + length);
        if (answer) {
          const prefix = Buffer.alloc(2);
          prefix.writeUInt16BE(answer.length);
          socket.write(Buffer.concat([prefix, answer]));
        }
      }
    });
  }

  #answer(query: Buffer, limit: number): Buffer | undefined {
    const question = parseQuestion(query);
    if (!question) return undefined;
    const kind = question.type === TYPE_A ? 'A' : question.type === TYPE_AAAA ? 'AAAA' : 'other';
    this.queries[kind] += 1;
    const mode = (kind !== 'other' && this.modeFor[kind]) || this.mode;
    if (mode === 'drop') return undefined;
    const records = this.#records.get(question.name);
    let rcode = 0;
    let rdatas: Buffer[] = [];
    if (mode === 'servfail') rcode = 2;
    else if (!records) rcode = 3;
    else if (kind === 'A') rdatas = (records.a ?? []).map(ipv4Bytes);
    else if (kind === 'AAAA') rdatas = (records.aaaa ?? []).map(ipv6Bytes);
    const header = Buffer.alloc(12);
    header.writeUInt16BE(query.readUInt16BE(0), 0);
    // QR=1, AA=1, RD copied; RA=1 and the rcode.
    header[2] = 0x80 | 0x04 | ((query[2] ?? 0) & 0x01);
    header[3] = 0x80 | rcode;
    header.writeUInt16BE(1, 4);
    const answers = rdatas.map((rdata) => {
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
      rr.writeUInt16BE(question.type, 2);
      rr.writeUInt16BE(1, 4); // class IN
      rr.writeUInt32BE(1, 6); // TTL 1 s: tests change records at run time
      rr.writeUInt16BE(rdata.length, 10);
      return Buffer.concat([rr, rdata]);
    });
    const questionBytes = query.subarray(12, question.end);
    let size = 12 + questionBytes.length;
    let fit = 0;
    while (fit < answers.length && size + (answers[fit]?.length ?? 0) <= limit) {
      size += answers[fit]?.length ?? 0;
      fit += 1;
    }
    if (fit < answers.length) header[2] |= 0x02; // TC: ask again over TCP
    header.writeUInt16BE(fit, 6);
    return Buffer.concat([header, questionBytes, ...answers.slice(0, fit)]);
  }
}

/** The question of a query: name (lowercase, no trailing dot), type, and where it ends. */
function parseQuestion(query: Buffer): { name: string; type: number; end: number } | undefined {
  if (query.length < 12 || query.readUInt16BE(4) !== 1) return undefined;
  const labels: string[] = [];
  let at = 12;
  while (at < query.length) {
    const length = query[at] ?? 0;
    if (length === 0) break;
    if (length > 63) return undefined;
    labels.push(
      query
        .subarray(at + 1, at + 1 + length)
        .toString('latin1')
        .toLowerCase(),
    );
    at += length + 1;
  }
  if (at + 5 > query.length) return undefined;
  return { name: labels.join('.'), type: query.readUInt16BE(at + 1), end: at + 5 };
}

/** The UDP payload size an EDNS OPT record in the query offers, else the classic 512. */
function ednsSize(query: Buffer): number {
  const question = parseQuestion(query);
  if (!question || query.readUInt16BE(10) === 0) return UDP_LIMIT;
  const at = question.end;
  if (query[at] === 0 && query.length >= at + 5 && query.readUInt16BE(at + 1) === TYPE_OPT) {
    return Math.max(UDP_LIMIT, query.readUInt16BE(at + 3));
  }
  return UDP_LIMIT;
}

function ipv4Bytes(ip: string): Buffer {
  return Buffer.from(ip.split('.').map(Number));
}

function ipv6Bytes(ip: string): Buffer {
  const [head = '', tail = ''] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = ip.includes('::')
    ? [...left, ...new Array(8 - left.length - right.length).fill('0'), ...right]
    : left;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => {
    out.writeUInt16BE(Number.parseInt(g, 16), i * 2);
  });
  return out;
}
