// A client of gRPC server reflection (grpc.reflection.v1 and v1alpha, same messages, different paths):
// fetches the file that defines a symbol and every file it imports. Servers offer either version, so v1
// is tried first and v1alpha after an UNIMPLEMENTED; the version that answered is remembered.

import { type Client, type Metadata, status as Status } from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { descriptorDependencies } from './descriptor-root.js';

const PATHS = {
  v1: '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  v1alpha: '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
} as const;
type Version = keyof typeof PATHS;

// The subset of reflection.proto this client speaks (identical in v1 and v1alpha).
const messages = protobuf.Root.fromJSON({
  nested: {
    ServerReflectionRequest: {
      oneofs: { message_request: { oneof: ['file_by_filename', 'file_containing_symbol'] } },
      fields: {
        host: { type: 'string', id: 1 },
        file_by_filename: { type: 'string', id: 3 },
        file_containing_symbol: { type: 'string', id: 4 },
      },
    },
    ServerReflectionResponse: {
      fields: {
        valid_host: { type: 'string', id: 1 },
        file_descriptor_response: { type: 'FileDescriptorResponse', id: 4 },
        error_response: { type: 'ErrorResponse', id: 7 },
      },
    },
    FileDescriptorResponse: { fields: { file_descriptor_proto: { rule: 'repeated', type: 'bytes', id: 1 } } },
    ErrorResponse: {
      fields: { error_code: { type: 'int32', id: 1 }, error_message: { type: 'string', id: 2 } },
    },
  },
});
const Request = messages.lookupType('ServerReflectionRequest');
const Response = messages.lookupType('ServerReflectionResponse');

interface ReflectionResponse {
  file_descriptor_response?: { file_descriptor_proto: Uint8Array[] };
  error_response?: { error_code: number; error_message: string };
}

/** A reflection call that did not give files: a gRPC status (the call) or a reflection error answer. */
export interface ReflectionFailure {
  code: number;
  details: string;
}

export type FetchResult = { files: Uint8Array[] } | { failure: ReflectionFailure } | { cancelled: true };

/** Most files a symbol may pull in (a bound on requests for a misbehaving server). */
const MAX_FILES = 200;

export class ReflectionClient {
  readonly #client: Client;
  /** The version that answered last time; undefined until one did. */
  #version: Version | undefined;

  constructor(client: Client) {
    this.#client = client;
  }

  /** Fetches the file defining `symbol` and its imports, within one deadline. */
  async fetchSymbol(
    symbol: string,
    metadata: Metadata,
    deadlineMs: number,
    signal: AbortSignal,
  ): Promise<FetchResult> {
    const versions: Version[] = this.#version ? [this.#version] : ['v1', 'v1alpha'];
    let last: FetchResult = {
      failure: { code: Status.UNIMPLEMENTED, details: 'no reflection version tried' },
    };
    for (const version of versions) {
      last = await this.#fetchWith(version, symbol, metadata, Date.now() + deadlineMs, signal);
      if (!('failure' in last) || last.failure.code !== Status.UNIMPLEMENTED) {
        if (!('failure' in last)) this.#version = version;
        return last;
      }
    }
    this.#version = undefined;
    return 'failure' in last
      ? {
          failure: {
            code: Status.UNIMPLEMENTED,
            details: `server reflection is not available (v1, v1alpha): ${last.failure.details}`,
          },
        }
      : last;
  }

  /** One bidi stream: asks for the symbol, then for every imported file not yet received. */
  #fetchWith(
    version: Version,
    symbol: string,
    metadata: Metadata,
    deadline: number,
    signal: AbortSignal,
  ): Promise<FetchResult> {
    return new Promise((resolve) => {
      const files = new Map<string, Uint8Array>();
      const pending = new Set<string>();
      let settled = false;
      const finish = (result: FetchResult) => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        call.cancel();
        resolve(result);
      };
      const call = this.#client.makeBidiStreamRequest(
        PATHS[version],
        (value: Record<string, unknown>) => Buffer.from(Request.encode(Request.fromObject(value)).finish()),
        (bytes: Buffer) =>
          Response.toObject(Response.decode(bytes), { bytes: Array, defaults: false }) as ReflectionResponse,
        metadata,
        { deadline },
      );
      const onAbort = () => finish({ cancelled: true });
      signal.addEventListener('abort', onAbort, { once: true });
      call.on('data', (response: ReflectionResponse) => {
        if (response.error_response) {
          const { error_code, error_message } = response.error_response;
          finish({ failure: { code: error_code, details: `reflection: ${error_message}` } });
          return;
        }
        for (const raw of response.file_descriptor_response?.file_descriptor_proto ?? []) {
          const bytes = raw instanceof Uint8Array ? raw : Uint8Array.from(raw as number[]);
          const { name, dependencies } = descriptorDependencies(bytes);
          files.set(name, bytes);
          pending.delete(name);
          for (const dep of dependencies) if (!files.has(dep)) pending.add(dep);
        }
        const next = [...pending].find((name) => !files.has(name));
        if (next === undefined || files.size >= MAX_FILES) {
          call.end();
          finish({ files: [...files.values()] });
        } else {
          call.write({ file_by_filename: next });
        }
      });
      call.on('error', () => {});
      call.on('status', (status) => {
        if (status.code === Status.OK) finish({ files: [...files.values()] });
        else finish({ failure: { code: status.code, details: status.details } });
      });
      call.write({ file_containing_symbol: symbol });
    });
  }
}
