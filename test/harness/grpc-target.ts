// A real grpc-js server on 127.0.0.1 with the reference health service, to be flipped, stopped and
// restarted by tests. Port 0 picks a free port; restart() rebinds the same port.

import { Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import { HealthImplementation, service as healthService, type ServingStatusMap } from 'grpc-health-check';

export interface TargetOptions {
  /** Initial statuses; omit to serve no health service at all. */
  health?: ServingStatusMap;
  /** Serve Check but answer Watch with UNIMPLEMENTED (older servers, some proxies). */
  checkOnly?: boolean;
  port?: number;
  /** TLS (see serverCredentials in tls-material.ts); plaintext when absent. */
  credentials?: ServerCredentials;
}

export class GrpcTarget {
  health: HealthImplementation | undefined;
  port = 0;
  #server: Server | undefined;
  readonly #options: TargetOptions;
  /** The statuses a check-only server answers from. */
  readonly #checkStatuses = new Map<string, string>();

  constructor(options: TargetOptions = {}) {
    this.#options = options;
    this.port = options.port ?? 0;
    for (const [service, status] of Object.entries(options.health ?? {}))
      this.#checkStatuses.set(service, status);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = new Server();
    const statuses = this.#options.health;
    if (statuses) {
      // Keep the statuses across restarts: a restarted server serves what it served before.
      this.health ??= new HealthImplementation(statuses);
      if (this.#options.checkOnly) addCheckOnly(server, this.#checkStatuses);
      else this.health.addToServer(server);
    }
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${this.port}`,
        this.#options.credentials ?? ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    this.#server = server;
    return this;
  }

  setStatus(service: string, status: 'SERVING' | 'NOT_SERVING' | 'UNKNOWN'): void {
    if (!this.health) throw new Error('this target serves no health service');
    this.health.setStatus(service, status);
    this.#checkStatuses.set(service, status);
  }

  /** Drops every connection and stream at once, like a crashed process. */
  async stop(): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}

/** Check answers from `statuses`; Watch is left out, so grpc-js answers it UNIMPLEMENTED. */
function addCheckOnly(server: Server, statuses: Map<string, string>): void {
  server.addService(healthService, {
    check: (
      call: { request: { service: string } },
      callback: (err: { code: number; details: string } | null, res?: { status: string }) => void,
    ) => {
      const status = statuses.get(call.request.service);
      if (status) callback(null, { status });
      else callback({ code: Status.NOT_FOUND, details: 'unknown service' });
    },
  });
}
