// A real grpc-js server whose grpc.health.v1.Health serves Check and Watch from grpc-health-check's
// HealthImplementation and List (gRFC A90) from its own handler over the same proto, so that services
// can be added and removed at run time; or, with `list: false`, a server that answers List UNIMPLEMENTED
// as most servers still do. restart() rebinds the same port.

import {
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';

export class ListHealthTarget {
  port = 0;
  /** Every List call this server answered. */
  lists = 0;
  readonly #health = new HealthImplementation();
  /** What List names, and Check/Watch know, by service. */
  readonly #listed = new Map<string, ServingStatus>();
  #server: Server | undefined;

  constructor(
    services: Record<string, ServingStatus>,
    readonly options: { list: boolean } = { list: true },
  ) {
    for (const [service, status] of Object.entries(services)) this.setStatus(service, status);
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  setStatus(service: string, status: ServingStatus): void {
    this.#listed.set(service, status);
    this.#health.setStatus(service, status);
  }

  /** The service leaves List; Check and Watch of it then answer as for a service never known. */
  remove(service: string): void {
    this.#listed.delete(service);
    this.#health.setStatus(service, 'SERVICE_UNKNOWN' as ServingStatus);
  }

  async start(): Promise<this> {
    const server = new Server();
    // HealthImplementation registers its handlers through addService: keep Check and Watch, put ours
    // in place of List (or none, so that grpc-js answers UNIMPLEMENTED).
    this.#health.addToServer({
      addService: (definition: ServiceDefinition, handlers: UntypedServiceImplementation) => {
        const { list: _list, ...rest } = handlers;
        const own: UntypedServiceImplementation = { ...rest };
        if (this.options.list) {
          own.list = (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) =>
            this.#list(callback);
        }
        server.addService(definition, own);
      },
    } as unknown as Server);
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`127.0.0.1:${this.port}`, ServerCredentials.createInsecure(), (err, port) =>
        err ? reject(err) : resolve(port),
      ),
    );
    this.#server = server;
    return this;
  }

  #list(callback: sendUnaryData<unknown>): void {
    this.lists += 1;
    const statuses = Object.fromEntries([...this.#listed].map(([service, status]) => [service, { status }]));
    callback(null, { statuses });
  }

  async stop(): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }
}
