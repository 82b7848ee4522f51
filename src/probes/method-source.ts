// Where a synthetic RPC probe gets its method descriptor and encoded request: .proto files (loaded and
// checked when the config loads, so nothing can fail here) or server reflection (fetched at first
// contact, cached, and fetched again after the server answered UNIMPLEMENTED).

import { type Client, type Metadata, status as Status } from '@grpc/grpc-js';
import type { RpcConfig } from '../config/schema.js';
import type { ConnectionView } from '../connection/watcher.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { rootFromDescriptors } from '../rpc/descriptor-root.js';
import { checkMessage, encodeRequest, type MethodDescriptor, resolveMethod } from '../rpc/method.js';
import { loadProtoFiles } from '../rpc/proto-root.js';
import type { ReflectionClient } from '../rpc/reflection.js';
import { formatPath } from '../util/format-path.js';

export interface ReadyMethod {
  method: MethodDescriptor;
  request: Buffer;
}

export type SourceResult =
  | { ready: ReadyMethod }
  /** The call for descriptors failed: classify it like any call. */
  | { callFailed: { code: number; details: string } }
  /** Descriptors arrived but do not fit the config: a fixed reason with a clear message. */
  | { mismatch: { reason: FailureReason; details: string } }
  | { cancelled: true };

export interface MethodSource {
  resolve(metadata: Metadata, deadlineMs: number, signal: AbortSignal): Promise<SourceResult>;
  /** Forget what was learnt (the server may have changed). */
  invalidate(): void;
}

/** Prepares a method and request from a Root; the problems are the config's. */
function prepare(
  root: Parameters<typeof resolveMethod>[0],
  rpc: RpcConfig,
): { ready: ReadyMethod } | { problems: string[]; missing: boolean } {
  const found = resolveMethod(root, rpc.method, rpc.stream ? 'server_stream' : 'unary');
  if ('error' in found) return { problems: [found.error], missing: !found.error.includes('streaming') };
  const problems = checkMessage(found.ok.requestType, rpc.request);
  if (problems.length > 0) {
    return {
      problems: problems.map((p) => `${formatPath(['request', ...p.path])}: ${p.message}`),
      missing: false,
    };
  }
  return { ready: { method: found.ok, request: encodeRequest(found.ok.requestType, rpc.request) } };
}

export class ProtoFileSource implements MethodSource {
  readonly #ready: ReadyMethod;

  /** Throws if the files do not give a callable method; config loading has already checked that. */
  constructor(rpc: RpcConfig) {
    if (!rpc.proto) throw new Error(`rpc ${rpc.name} has no proto files`);
    const prepared = prepare(loadProtoFiles(rpc.proto.files, rpc.proto.include), rpc);
    if (!('ready' in prepared)) throw new Error(prepared.problems.join('; '));
    this.#ready = prepared.ready;
  }

  async resolve(): Promise<SourceResult> {
    return { ready: this.#ready };
  }

  invalidate(): void {}
}

async function loadReflection(client: Client) {
  const [{ ReflectionClient }, { rootFromDescriptors }] = await Promise.all([
    import('../rpc/reflection.js'),
    import('../rpc/descriptor-root.js'),
  ]);
  return { client: new ReflectionClient(client), rootFromDescriptors };
}

export class ReflectionSource implements MethodSource {
  readonly #rpc: RpcConfig;
  readonly #client: Client;
  /** Loaded at the first resolve: a config without reflection never loads the descriptor tooling. */
  #reflection: { client: ReflectionClient; rootFromDescriptors: typeof rootFromDescriptors } | undefined;
  readonly #connection: ConnectionView;
  #cached: ReadyMethod | undefined;
  /** The connection the cached descriptors were learnt on, and when (performance.now()). */
  #cachedOn = -1;
  #cachedAt = 0;

  constructor(rpc: RpcConfig, client: Client, connection: ConnectionView) {
    this.#rpc = rpc;
    this.#client = client;
    this.#connection = connection;
  }

  async resolve(metadata: Metadata, deadlineMs: number, signal: AbortSignal): Promise<SourceResult> {
    // The connection the descriptors were learnt on is gone: the next one may reach a new deployment
    // with a changed schema, so learn it again.
    const lost = (this.#connection.lastDisconnect?.at ?? -1) > this.#cachedAt;
    if (this.#cached && !lost && this.#cachedOn === this.#connection.connections)
      return { ready: this.#cached };
    this.#cached = undefined;
    const service = this.#rpc.method.split('/')[0] ?? '';
    this.#reflection ??= await loadReflection(this.#client);
    const { client: reflection, rootFromDescriptors } = this.#reflection;
    const fetched = await reflection.fetchSymbol(service, metadata, deadlineMs, signal);
    if ('cancelled' in fetched) return fetched;
    if ('failure' in fetched) {
      // NOT_FOUND from reflection: the server does not know the service at all.
      if (fetched.failure.code === Status.NOT_FOUND) {
        return {
          mismatch: { reason: 'unimplemented', details: `server reflection does not know ${service}` },
        };
      }
      return { callFailed: fetched.failure };
    }
    let prepared: ReturnType<typeof prepare>;
    try {
      prepared = prepare(rootFromDescriptors(fetched.files), this.#rpc);
    } catch (err) {
      return {
        mismatch: {
          reason: 'protocol_error',
          details: `unusable descriptors from reflection: ${String(err)}`,
        },
      };
    }
    if ('ready' in prepared) {
      this.#cached = prepared.ready;
      this.#cachedOn = this.#connection.connections;
      this.#cachedAt = performance.now();
      return prepared;
    }
    const details = `${this.#rpc.method} (from server reflection): ${prepared.problems.join('; ')}`;
    return { mismatch: { reason: prepared.missing ? 'unimplemented' : 'assertion_failed', details } };
  }

  invalidate(): void {
    this.#cached = undefined;
  }
}
