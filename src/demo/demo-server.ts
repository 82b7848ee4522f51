// The embedded demo target: a real grpc-js server on 127.0.0.1 with the health service (services "" and
// demo.Echo) and an Echo method. It takes demo.Echo NOT_SERVING for a while at a steady rhythm, so a
// newcomer sees live transitions in /metrics without deploying anything.

import { fileURLToPath } from 'node:url';
import { loadPackageDefinition, Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';

export const DEMO_SERVICE = 'demo.Echo';
export const DEMO_PROTO = fileURLToPath(new URL('../../protos/demo/echo.proto', import.meta.url));

export interface DemoOptions {
  /** How often demo.Echo goes NOT_SERVING (default 30 s). */
  flipEveryMs?: number;
  /** How long it stays NOT_SERVING each time (default 5 s). */
  notServingMs?: number;
}

export class DemoServer {
  readonly #server = new Server();
  readonly #health = new HealthImplementation({ '': 'SERVING', [DEMO_SERVICE]: 'SERVING' });
  readonly #options: Required<DemoOptions>;
  /** The rhythm, and the pending return to SERVING (at most one at a time). */
  #flipTimer: NodeJS.Timeout | undefined;
  #backTimer: NodeJS.Timeout | undefined;

  constructor(options: DemoOptions = {}) {
    this.#options = { flipEveryMs: 30_000, notServingMs: 5000, ...options };
  }

  /** Binds 127.0.0.1 on an ephemeral port and starts the flip rhythm; returns "127.0.0.1:PORT". */
  async start(): Promise<string> {
    const definition = loadPackageDefinition(loadSync(DEMO_PROTO)) as unknown as {
      demo: { Echo: { service: ServiceDefinition } };
    };
    this.#server.addService(definition.demo.Echo.service, {
      echo: (call: { request: { message: string } }, callback: (e: null, r: { message: string }) => void) =>
        callback(null, { message: call.request.message }),
    });
    this.#health.addToServer(this.#server);
    const port = await new Promise<number>((resolve, reject) =>
      this.#server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, bound) =>
        err ? reject(err) : resolve(bound),
      ),
    );
    this.#flipTimer = setInterval(() => {
      this.#health.setStatus(DEMO_SERVICE, 'NOT_SERVING');
      clearTimeout(this.#backTimer);
      this.#backTimer = setTimeout(
        () => this.#health.setStatus(DEMO_SERVICE, 'SERVING'),
        this.#options.notServingMs,
      );
      this.#backTimer.unref();
    }, this.#options.flipEveryMs);
    this.#flipTimer.unref();
    return `127.0.0.1:${port}`;
  }

  async close(): Promise<void> {
    clearInterval(this.#flipTimer);
    clearTimeout(this.#backTimer);
    // Open Watch streams never finish on their own: force them closed.
    this.#server.forceShutdown();
  }
}
