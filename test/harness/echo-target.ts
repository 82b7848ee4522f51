// A real grpc-js server of test/fixtures/protos/probetest/v1/echo.proto, with server reflection (v1,
// v1alpha or both) and an optional TLS/mTLS listener. Every call's metadata is recorded.

import {
  type Metadata,
  Server,
  ServerCredentials,
  type ServerUnaryCall,
  type ServiceDefinition,
  type sendUnaryData,
} from '@grpc/grpc-js';
import { loadSync, type PackageDefinition } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

export const ECHO_PROTO_DIR = 'test/fixtures/protos';
export const ECHO_PROTO = `${ECHO_PROTO_DIR}/probetest/v1/echo.proto`;

export interface EchoOptions {
  reflection?: 'v1' | 'v1alpha' | 'both' | 'none';
  /** Serve the later release of the service, whose EchoRequest.message has another field number. */
  renumbered?: boolean;
  credentials?: ServerCredentials;
  port?: number;
}

interface EchoRequest {
  message: string;
  delay_ms: number;
  code: number;
  details: string;
  tags: string[];
}

function packageDefinition(renumbered: boolean): PackageDefinition {
  const dir = renumbered ? 'test/fixtures/protos-renumbered' : ECHO_PROTO_DIR;
  return loadSync('probetest/v1/echo.proto', {
    includeDirs: [dir],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
  });
}

export class EchoTarget {
  port: number;
  readonly seen: Metadata[] = [];
  #server: Server | undefined;
  readonly #options: EchoOptions;

  constructor(options: EchoOptions = {}) {
    this.#options = options;
    this.port = options.port ?? 0;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(options: Partial<EchoOptions> = {}): Promise<this> {
    const opts = { ...this.#options, ...options };
    const pkg = packageDefinition(opts.renumbered === true);
    const server = new Server();
    const service = pkg['probetest.v1.Echo'] as ServiceDefinition;
    const implementation = {
      Echo: (call: ServerUnaryCall<EchoRequest, unknown>, callback: sendUnaryData<unknown>) => {
        this.seen.push(call.metadata);
        const r = call.request;
        const answer = () => {
          if (r.code !== 0) callback({ code: r.code, details: r.details || 'as requested' });
          else {
            callback(null, {
              message: r.message,
              state: 'ACTIVE',
              count: '9007199254740993',
              tags: r.tags,
              seen_probe_header: String(call.metadata.get('x-probe')[0] ?? ''),
              seen_authorization: String(call.metadata.get('authorization')[0] ?? ''),
            });
          }
        };
        if (r.delay_ms > 0) setTimeout(answer, r.delay_ms);
        else answer();
      },
      Watch: () => {},
    };
    server.addService(service, implementation);
    const reflection = opts.reflection ?? 'both';
    if (reflection !== 'none') {
      const reflectionService = new ReflectionService(pkg);
      reflectionService.addToServer({
        addService: (definition: ServiceDefinition, impl: never) => {
          const path = Object.values(definition)[0]?.path ?? '';
          const version = path.includes('v1alpha') ? 'v1alpha' : 'v1';
          if (reflection === 'both' || reflection === version) server.addService(definition, impl);
        },
      } as never);
    }
    this.port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(
        `127.0.0.1:${this.port}`,
        opts.credentials ?? ServerCredentials.createInsecure(),
        (err, port) => (err ? reject(err) : resolve(port)),
      ),
    );
    this.#server = server;
    return this;
  }

  async stop(): Promise<void> {
    this.#server?.forceShutdown();
    this.#server = undefined;
  }
}
