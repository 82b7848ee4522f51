// Everything that runs for one configured target: its channel and its probes. start() and close() are
// explicit and idempotent; close() stops every probe before it closes the channel they use.

import { Client, credentials, type Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { TargetConfig } from '../config/schema.js';
import { type ConnectionObserver, ConnectionWatcher } from '../connection/watcher.js';
import { FailureEvidenceCollector } from '../probes/failure-evidence.js';
import { checkOnce, HealthCheckProbe, type HealthProbeContext } from '../probes/health-check.js';
import { HealthWatchProbe } from '../probes/health-watch.js';
import { ProtoFileSource, ReflectionSource } from '../probes/method-source.js';
import { type HealthStatus, healthProbeName, type ProbeObserver, type ProbeResult } from '../probes/probe.js';
import { withStartupGrace } from '../probes/startup-grace.js';
import { UnaryProbe } from '../probes/unary.js';
import { buildMetadata, createChannel } from './channel.js';

/** A running probe: anything with start() and an idempotent close(). */
interface Runnable {
  start(): void;
  close(): Promise<void>;
}

/** The verdict of a one-off probe (/probe), with the health answer where there was one. */
export interface OneShotResult {
  result: ProbeResult;
  healthStatus?: HealthStatus;
}

export class TargetRunner {
  readonly config: TargetConfig;
  readonly #observer: ProbeObserver;
  readonly #connectionObserver: ConnectionObserver;
  readonly #log: Logger;
  #client: Client | undefined;
  #watcher: ConnectionWatcher | undefined;
  #probes: Runnable[] = [];
  /** What one-off probes need: per probe name, a function that runs it once. */
  #oneShots = new Map<
    string,
    (timeoutMs: number, signal: AbortSignal) => Promise<OneShotResult | undefined>
  >();
  #closed: Promise<void> | undefined;

  constructor(
    config: TargetConfig,
    observer: ProbeObserver,
    connectionObserver: ConnectionObserver,
    log: Logger,
  ) {
    this.config = config;
    this.#observer = withStartupGrace(observer, config.startupGraceMs);
    this.#connectionObserver = connectionObserver;
    this.#log = log.child({ target: config.name });
  }

  /** The `probe` label of every probe this target runs. */
  static probeNames(config: TargetConfig): string[] {
    return [...config.health.map((h) => healthProbeName(h.service)), ...config.rpcs.map((r) => r.name)];
  }

  start(): void {
    if (this.#client || this.#closed) return;
    const config = this.config;
    const channel = createChannel(config);
    // channelOverride: the client uses our channel; address and credentials here are then unused.
    const client = new Client(config.address, credentials.createInsecure(), { channelOverride: channel });
    this.#client = client;
    const watcher = new ConnectionWatcher(
      config.name,
      channel,
      this.#connectionObserver,
      this.#log,
      config.keepalive.timeMs,
    );
    this.#watcher = watcher;
    watcher.start();
    const evidence = new FailureEvidenceCollector(config.address, config.tls, watcher);
    const metadata = cachedMetadata(buildMetadata(config.metadata));
    this.#probes = config.health.map((health) => {
      const ctx: HealthProbeContext = {
        target: config.name,
        service: health.service,
        client,
        metadata,
        timeoutMs: config.timeoutMs,
        intervalMs: config.intervalMs,
        observer: this.#observer,
        evidence,
      };
      this.#oneShots.set(healthProbeName(health.service), (timeoutMs, signal) =>
        checkOneShot({ ...ctx, timeoutMs }, signal),
      );
      return health.mode === 'watch' ? new HealthWatchProbe(ctx, this.#log) : new HealthCheckProbe(ctx);
    });
    for (const rpc of config.rpcs) {
      const probe = new UnaryProbe({
        target: config.name,
        rpc,
        client,
        metadata: cachedMetadata(buildMetadata(config.metadata, rpc.metadata)),
        source: rpc.proto ? new ProtoFileSource(rpc) : new ReflectionSource(rpc, client, watcher),
        observer: this.#observer,
        evidence,
        log: this.#log,
      });
      this.#probes.push(probe);
      this.#oneShots.set(rpc.name, async (timeoutMs, signal) => {
        const result = await probe.probeOnce(timeoutMs, signal);
        return result && { result };
      });
    }
    for (const probe of this.#probes) probe.start();
    this.#log.info({ address: config.address, probes: TargetRunner.probeNames(config) }, 'target started');
  }

  /** Runs probe `name` once now, unrecorded; undefined if there is no such probe or it was cancelled. */
  probeOnce(
    name: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<OneShotResult | undefined> | undefined {
    return this.#oneShots.get(name)?.(timeoutMs, signal);
  }

  /** Stops the probes, then closes the channel. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      await Promise.all(this.#probes.map((p) => p.close()));
      this.#watcher?.markClosing();
      this.#client?.close();
      this.#log.info('target stopped');
    })();
    return this.#closed;
  }
}

/** One Check whose report is captured instead of recorded. */
async function checkOneShot(
  ctx: HealthProbeContext,
  signal: AbortSignal,
): Promise<OneShotResult | undefined> {
  let captured: OneShotResult | undefined;
  let healthStatus: HealthStatus | undefined;
  const capture: ProbeObserver = {
    attempt: () => {},
    result: (_t, _p, result) => {
      captured = { result, ...(healthStatus ? { healthStatus } : {}) };
    },
    healthStatus: (_t, _s, status) => {
      healthStatus = status;
    },
    watchUp: () => {},
  };
  await checkOnce({ ...ctx, observer: capture }, signal);
  return captured;
}

/** Built once per probe (secrets revealed once); each call gets its own copy, as grpc-js may add to it. */
function cachedMetadata(metadata: Metadata): () => Metadata {
  return () => metadata.clone();
}
