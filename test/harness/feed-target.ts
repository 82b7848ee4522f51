// A real grpc-js server of test/fixtures/protos/probetest/v1/feed.proto: Subscribe sends Ticks on the
// schedule its request asks for (interval, a pause after N messages, a final status). It records when
// it wrote each message, so a test can time what the probe saw against what the server did.

import {
  Server,
  ServerCredentials,
  type ServerOptions,
  type ServerWritableStream,
  type ServiceDefinition,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

export const FEED_PROTO_DIR = 'test/fixtures/protos';
export const FEED_PROTO = `${FEED_PROTO_DIR}/probetest/v1/feed.proto`;

interface SubscribeRequest {
  count: number;
  interval_ms: number;
  pause_after: number;
  pause_ms: number;
  code: number;
  details: string;
  stale_after: number;
}

export class FeedTarget {
  port = 0;
  /** performance.now() of the last message written, by any stream. */
  lastWriteAt = 0;
  /** Streams opened so far. */
  opened = 0;
  #server: Server | undefined;
  readonly #streams = new Set<ServerWritableStream<SubscribeRequest, unknown>>();

  constructor(
    readonly options: ServerOptions = {},
    readonly reflection = false,
  ) {}

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const pkg = loadSync('probetest/v1/feed.proto', {
      includeDirs: [FEED_PROTO_DIR],
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
    });
    const server = new Server(this.options);
    server.addService(pkg['probetest.v1.Feed'] as ServiceDefinition, {
      Subscribe: (call: ServerWritableStream<SubscribeRequest, unknown>) => this.#subscribe(call),
    });
    if (this.reflection) new ReflectionService(pkg).addToServer(server);
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.#server = server;
    return this;
  }

  #subscribe(call: ServerWritableStream<SubscribeRequest, unknown>): void {
    this.opened += 1;
    this.#streams.add(call);
    const r = call.request;
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    let done = false;
    const finish = () => {
      done = true;
      clearTimeout(timer);
      this.#streams.delete(call);
    };
    call.on('cancelled', finish);
    call.on('close', finish);
    const next = () => {
      if (done) return;
      if (r.count > 0 && sent >= r.count) {
        finish();
        if (r.code === 0) call.end();
        else call.emit('error', { code: r.code, details: r.details });
        return;
      }
      sent += 1;
      call.write({ seq: String(sent), state: r.stale_after > 0 && sent > r.stale_after ? 'STALE' : 'LIVE' });
      this.lastWriteAt = performance.now();
      const pause = r.pause_after > 0 && sent === r.pause_after ? r.pause_ms : 0;
      timer = setTimeout(next, Math.max(1, r.interval_ms + pause));
    };
    next();
  }

  async stop(): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }
}
