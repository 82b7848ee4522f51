// The pods behind a headless Service, on loopback: one real grpc-js server with the health service per
// address (127.0.0.2, 127.0.0.3, ... or ::1), all on one port, as the backends of one DNS name share
// theirs. Each backend counts the TCP connections it accepted (cloudprober's listener wrapping), so a
// test proves a channel was kept rather than re-dialled; each can be stopped and started on its own.

import { createServer, type Server as NetServer, type Socket } from 'node:net';
import { Server, ServerCredentials, ServerInterceptingCall } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';

/** A health service every backend serves (SERVING), besides the whole server (""). */
export const FLEET_SERVICE = 'fanout.v1.Orders';

/** One backend: a grpc-js server fed by a counting TCP listener on ip:port. */
export class Backend {
  /** TCP connections accepted since the backend was created (across restarts). */
  accepted = 0;
  /** The :authority of every call received. */
  readonly authorities = new Set<string>();
  readonly health = new HealthImplementation({ '': 'SERVING', [FLEET_SERVICE]: 'SERVING' });
  #listener: NetServer | undefined;
  #server: Server | undefined;
  readonly #sockets = new Set<Socket>();

  constructor(
    readonly ip: string,
    readonly port: number,
    readonly credentials: ServerCredentials = ServerCredentials.createInsecure(),
  ) {}

  /** The `backend` label value: ip:port, [ip]:port for IPv6. */
  get key(): string {
    return this.ip.includes(':') ? `[${this.ip}]:${this.port}` : `${this.ip}:${this.port}`;
  }

  /** TCP connections open now. */
  get open(): number {
    return this.#sockets.size;
  }

  get running(): boolean {
    return this.#listener !== undefined;
  }

  /** Listens on ip:port; rejects with the OS error (EADDRINUSE) when it cannot. */
  async start(): Promise<void> {
    if (this.#listener) return;
    const server = new Server({
      interceptors: [
        (_method, call) => {
          this.authorities.add(call.getHost());
          return new ServerInterceptingCall(call);
        },
      ],
    });
    this.health.addToServer(server);
    const injector = server.createConnectionInjector(this.credentials);
    const listener = createServer((socket) => {
      this.accepted += 1;
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      injector.injectConnection(socket);
    });
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(this.port, this.ip, () => resolve());
    });
    this.#server = server;
    this.#listener = listener;
  }

  /** Drops every connection at once and stops listening, like a pod that crashed. */
  async stop(): Promise<void> {
    const listener = this.#listener;
    this.#listener = undefined;
    for (const socket of this.#sockets) socket.destroy();
    this.#server?.forceShutdown();
    this.#server = undefined;
    if (listener) await new Promise<void>((resolve) => listener.close(() => resolve()));
  }
}

/**
 * Backends on every address of `ips`, all on one port that is free on each of them: the first
 * address picks an ephemeral port, the others take it; when one cannot, all start over (bounded).
 */
export async function startFleet(
  ips: readonly string[],
  credentials?: ServerCredentials,
): Promise<Backend[]> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const first = await ephemeralPort(ips[0] ?? '127.0.0.1');
    const backends = ips.map((ip) => new Backend(ip, first, credentials));
    try {
      for (const backend of backends) await backend.start();
      return backends;
    } catch (err) {
      await Promise.all(backends.map((b) => b.stop()));
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
  throw new Error(`no port free on all of ${ips.join(', ')}`);
}

/** A port the OS just chose as free on `ip` (released again before it is returned). */
async function ephemeralPort(ip: string): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(0, ip, () => resolve());
  });
  const address = probe.address();
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether the machine has IPv6 loopback (::1) to listen on. */
export async function hasIpv6Loopback(): Promise<boolean> {
  try {
    await ephemeralPort('::1');
    return true;
  } catch {
    return false;
  }
}
