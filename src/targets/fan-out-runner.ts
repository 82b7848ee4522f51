// A fan-out target (SPEC "Config", `fan_out`): one TargetRunner per address its name resolves to, each on
// its own channel to that one address, running all of the target's probes. The authority and TLS name
// stay the target's host name. Backends are reconciled by address as TargetSet reconciles targets:
// an unchanged backend keeps its runner (channel, streams, counters); a removed one is closed and its
// series removed; a new one starts.

import type { Logger } from 'pino';
import {
  type BackendAddress,
  backendAddress,
  backendChannelTarget,
  parseAddressSource,
  targetAuthority,
} from '../config/address.js';
import type { TargetConfig } from '../config/schema.js';
import { backendPlan, planTarget, type TargetPlan } from '../probes/plan.js';
import type { Probe } from '../probes/probe.js';
import { fanOut } from '../util/fan-out.js';
import { BackendDiscovery } from './backend-discovery.js';
import { type ChannelSpec, channelSpec, createChannel } from './channel.js';
import { TARGET_SINK_METHODS, type TargetSink } from './sink.js';
import { TargetRunner } from './target-runner.js';

export interface FanOutRunnerOptions {
  config: TargetConfig;
  sink: TargetSink;
  log: Logger;
}

/**
 * The ChannelSpec of one backend: the target's, dialling only that address under the target's names.
 * The authority is always set (the target's, else its address's host:port), so channel.ts takes the
 * TLS name from it when no server_name is given: the Service name, never the backend's IP.
 */
export function backendChannelSpec(config: TargetConfig, backend: BackendAddress): ChannelSpec {
  const spec = channelSpec(config);
  return {
    ...spec,
    address: backendChannelTarget(backend),
    authority: config.authority !== '' ? config.authority : targetAuthority(config.address),
  };
}

export class FanOutRunner {
  /** The target's plan: its probes, run once per backend; the sink knows it as a fan-out target. */
  readonly plan: TargetPlan;
  readonly #config: TargetConfig;
  readonly #sink: TargetSink;
  readonly #log: Logger;
  readonly #discovery: BackendDiscovery;
  /** The running backends by key (`ip:port`). */
  readonly #backends = new Map<string, { runner: TargetRunner; plan: TargetPlan }>();
  /** Backend keys in the order of the last set discovery gave (sorted): /probe's "first backend". */
  #order: string[] = [];
  /** Reconciles run one after another: a new set waits for the closing of the last one's leavers. */
  #applying: Promise<void> = Promise.resolve();
  #started = false;
  #closed: Promise<void> | undefined;
  /** Aborted by close(): a /probe `once()` in flight is then cancelled (503), not a target failure. */
  readonly #stopping = new AbortController();

  constructor(options: FanOutRunnerOptions) {
    const { config, sink, log } = options;
    this.#config = config;
    this.#sink = sink;
    this.#log = log.child({ target: config.name });
    this.plan = { ...planTarget(config), fanOut: true };
    const source = parseAddressSource(config.address);
    if (typeof source === 'string') throw new Error(source); // validated at load: a programmer error
    const fanOutConfig = config.fanOut ?? { refreshMs: 30_000, maxBackends: 64 };
    this.#discovery = new BackendDiscovery(source, {
      fanOut: fanOutConfig,
      log: this.#log,
      onBackends: (backends) => {
        // Nothing a resolution brings may crash the daemon or stall the reconciles that follow.
        this.#applying = this.#applying
          .then(() => this.#apply(backends))
          .catch((err: unknown) => this.#log.error({ err }, 'reconciling backends failed'));
      },
      onStatus: (status) => this.#sink.resolution(config.name, status),
    });
  }

  /** The `probe` label of every probe, as for a plain target. */
  get probeNames(): string[] {
    return this.plan.probes.map((p) => p.name);
  }

  /** The backends being probed, in address order. */
  get backends(): string[] {
    return this.#order.filter((key) => this.#backends.has(key));
  }

  /**
   * Probe `name` of one backend, for /probe: the given backend, or the first one. Undefined when the
   * target has no such probe or no such (or not yet any) backend.
   */
  probe(name: string, backend?: string): Probe | undefined {
    const key = backend ?? this.backends[0];
    return key === undefined ? undefined : this.#backends.get(key)?.runner.probe(name);
  }

  /**
   * What a reload must know before it stops the running target: whether grpc-js accepts this
   * target's channel (credentials, TLS material, options). Builds one backend's channel, unconnected,
   * and closes it; throws what grpc-js refuses. The backends themselves start with the resolutions.
   */
  prepare(): void {
    const probe = backendAddress('127.0.0.1', 1);
    createChannel(backendChannelSpec(this.#config, probe)).close();
  }

  /** Aborts when the target closes (reload, shutdown): the signal to give a `once()` on its probes. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.#started = true;
    this.#discovery.start();
    this.#log.info({ address: this.#config.address, probes: this.probeNames }, 'fan-out target started');
  }

  /**
   * Stops resolving, then closes every backend. Their series stay (a last scrape at shutdown still sees
   * them) until forget(). Idempotent.
   */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopping.abort();
      await this.#discovery.close();
      await this.#applying;
      await Promise.all([...this.#backends.values()].map((b) => b.runner.close()));
      this.#log.info('fan-out target stopped');
    })();
    return this.#closed;
  }

  /** After close(), when the target left the config: removes the series of every backend. */
  forget(): void {
    for (const { plan } of this.#backends.values()) this.#sink.removeTarget(plan.key);
    this.#backends.clear();
  }

  async #apply(backends: readonly BackendAddress[]): Promise<void> {
    if (this.#closed) return;
    const wanted = new Map(backends.map((b) => [b.key, b]));
    await Promise.all(
      [...this.#backends.keys()].filter((key) => !wanted.has(key)).map((key) => this.#removeBackend(key)),
    );
    if (this.#closed) return;
    this.#order = backends.map((b) => b.key);
    for (const backend of backends) if (!this.#backends.has(backend.key)) this.#addBackend(backend);
  }

  #addBackend(backend: BackendAddress): void {
    const plan = backendPlan(this.plan, backend.key);
    // A backend whose connection fails may be a pod that is gone: ask DNS again soon.
    const sink = fanOut<TargetSink>(
      [
        this.#sink,
        {
          channelState: (_key, state) => {
            if (state === 'TRANSIENT_FAILURE') this.#discovery.requestRefresh();
          },
        },
      ],
      TARGET_SINK_METHODS,
    );
    this.#sink.addTarget(plan);
    const runner = new TargetRunner({
      plan,
      channel: backendChannelSpec(this.#config, backend),
      startupGraceMs: this.#config.startupGraceMs,
      sink,
      log: this.#log.child({ backend: backend.key }),
    });
    this.#backends.set(backend.key, { runner, plan });
    runner.start();
  }

  async #removeBackend(key: string): Promise<void> {
    const running = this.#backends.get(key);
    if (!running) return;
    this.#backends.delete(key);
    await running.runner.close();
    this.#sink.removeTarget(running.plan.key);
  }
}
