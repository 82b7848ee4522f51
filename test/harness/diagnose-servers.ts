// Servers for the diagnose tests: a grpc-js server with health, reflection and any server options
// (grpc.max_connection_idle_ms, grpc.max_connection_age_ms); a TLS server that negotiates only
// HTTP/1.1 (an LB that downgrades); a DNS server that answers A records from a table.

import { createSocket, type Socket } from 'node:dgram';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { type ChannelOptions, Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath, type ServingStatusMap } from 'grpc-health-check';
import { listenLoopback } from './listen.js';
import type { CertFiles } from './tls-material.js';

export interface DiagnoseTargetOptions {
  health?: ServingStatusMap;
  reflection?: boolean;
  serverOptions?: ChannelOptions;
  credentials?: ServerCredentials;
  /** Listen on this Unix socket instead of 127.0.0.1:0. */
  unixPath?: string;
}

/** A grpc-js server on 127.0.0.1 serving grpc.health.v1 (and reflection of it) with `serverOptions`. */
export class DiagnoseGrpcServer {
  port = 0;
  health: HealthImplementation | undefined;
  readonly #server: Server;
  readonly #options: DiagnoseTargetOptions;

  constructor(options: DiagnoseTargetOptions = {}) {
    this.#options = options;
    this.#server = new Server(options.serverOptions ?? {});
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.#options.health) {
      this.health = new HealthImplementation(this.#options.health);
      this.health.addToServer(this.#server);
    }
    if (this.#options.reflection) {
      const pkg = loadSync(protoPath, { keepCase: true, longs: String, enums: String, defaults: true });
      new ReflectionService(pkg).addToServer({
        addService: (definition: ServiceDefinition, impl: never) => this.#server.addService(definition, impl),
      } as never);
    }
    this.port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync(
        this.#options.unixPath ? `unix:${this.#options.unixPath}` : '127.0.0.1:0',
        this.#options.credentials ?? ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    return this;
  }

  async stop(): Promise<void> {
    this.#server.forceShutdown();
  }
}

/** HTTPS that offers only HTTP/1.1 in ALPN: a TLS-terminating LB in front of gRPC without HTTP/2. */
export class Http1OnlyTlsServer {
  port = 0;
  readonly #server: HttpsServer;

  constructor(cert: CertFiles) {
    this.#server = createHttpsServer(
      { cert: cert.certPem, key: cert.keyPem, ALPNProtocols: ['http/1.1'] },
      (_req, res) => {
        res.writeHead(502, { 'content-type': 'text/html' });
        res.end('<html>bad gateway</html>');
      },
    );
  }

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

/** A UDP DNS server on 127.0.0.1: A records from `records`, NXDOMAIN for other names, no AAAA. */
export class TableDnsServer {
  port = 0;
  readonly #socket: Socket = createSocket('udp4');

  constructor(readonly records: Record<string, string[]>) {}

  async start(): Promise<this> {
    this.#socket.on('message', (query, peer) => {
      const answer = this.#answer(query);
      if (answer) this.#socket.send(answer, peer.port, peer.address);
    });
    await new Promise<void>((resolve) => this.#socket.bind(0, '127.0.0.1', resolve));
    this.port = this.#socket.address().port;
    return this;
  }

  #answer(query: Buffer): Buffer | undefined {
    if (query.length < 17) return undefined;
    const labels: string[] = [];
    let at = 12;
    while (at < query.length && query[at] !== 0 && labels.length < 64) {
      const length = query[at] ?? 0;
      labels.push(query.subarray(at + 1, at + 1 + length).toString('latin1'));
      at += length + 1;
    }
    const questionEnd = at + 5; // the zero label, QTYPE, QCLASS
    if (questionEnd > query.length) return undefined;
    const qtype = query.readUInt16BE(at + 1);
    const ips = this.records[labels.join('.').toLowerCase()];
    const answers = qtype === 1 && ips ? ips : [];
    const header = Buffer.from(query.subarray(0, questionEnd));
    header[2] = 0x80 | ((query[2] ?? 0) & 0x01); // QR, keep RD
    header[3] = 0x80 | (ips ? 0 : 3); // RA; NOERROR, or NXDOMAIN for an unknown name
    header.writeUInt16BE(1, 4);
    header.writeUInt16BE(answers.length, 6);
    header.writeUInt16BE(0, 8);
    header.writeUInt16BE(0, 10);
    const records = answers.map((ip) => {
      const rr = Buffer.alloc(16);
      rr.writeUInt16BE(0xc00c, 0); // pointer to the question's name
      rr.writeUInt16BE(1, 2); // A
      rr.writeUInt16BE(1, 4); // IN
      rr.writeUInt32BE(30, 6); // TTL
      rr.writeUInt16BE(4, 10);
      ip.split('.').forEach((octet, i) => {
        rr[12 + i] = Number(octet);
      });
      return rr;
    });
    return Buffer.concat([header, ...records]);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#socket.close(() => resolve()));
  }
}
