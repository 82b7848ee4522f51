// Everything that runs for one target: its channel, its connection watcher and the probes its plan
// names. start() and close() are explicit and idempotent; close() stops every probe before it closes
// the channel they use. A runner per resolved backend (fan-out) is this with a backend's ChannelSpec.

import { Client, credentials, type Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MetadataValue } from '../config/secret.js';
import { ConnectionWatcher } from '../connection/watcher.js';
import { FailureEvidenceCollector } from '../probes/failure-evidence.js';
import type { TargetPlan } from '../probes/plan.js';
import type { PlannedProbe, Probe, ProbeContext } from '../probes/probe.js';
import { withStartupGrace } from '../probes/startup-grace.js';
import { buildMetadata, type ChannelSpec, createChannel } from './channel.js';
import type { TargetSink } from './sink.js';

export interface TargetRunnerOptions {
  plan: TargetPlan;
  channel: ChannelSpec;
  /** Failed probes before the first success within this time are not reported (startup-grace.ts). */
  startupGraceMs: number;
  /** Where the target reports; addTarget/removeTarget are the caller's (TargetSet's) business. */
  sink: TargetSink;
  log: Logger;
}

export class TargetRunner {
  readonly plan: TargetPlan;
  readonly #options: TargetRunnerOptions;
  readonly #log: Logger;
  #client: Client | undefined;
  #watcher: ConnectionWatcher | undefined;
  #context: ProbeContext | undefined;
  /** The running probes by name: the plan's, then those added at run time (ctx.children). */
  readonly #probes = new Map<string, Probe>();
  /** Aborted when close() begins: one-off attempts (/probe) on this runner end as cancelled. */
  readonly #stopping = new AbortController();
  #closed: Promise<void> | undefined;

  constructor(options: TargetRunnerOptions) {
    this.plan = options.plan;
    this.#options = options;
    this.#log = options.log.child({ target: options.plan.name });
  }

  /** The `probe` label of every probe, in plan order (the plan's until start(), then the running ones). */
  get probeNames(): string[] {
    return this.#client ? [...this.#probes.keys()] : this.plan.probes.map((p) => p.name);
  }

  /** The running probe called `name`, for /probe's `once()`. */
  probe(name: string): Probe | undefined {
    return this.#probes.get(name);
  }

  /** Aborts when the runner closes (reload, shutdown): the signal to give a `once()` on its probes. */
  get signal(): AbortSignal {
    return this.#stopping.signal;
  }

  start(): void {
    if (this.#client || this.#closed) return;
    const { plan, channel: spec, sink } = this.#options;
    const channel = createChannel(spec);
    // channelOverride: the client uses our channel; the address and credentials here are then unused.
    const client = new Client(spec.address, credentials.createInsecure(), { channelOverride: channel });
    this.#client = client;
    const watcher = new ConnectionWatcher(plan.key, channel, sink, this.#log, spec.keepalive.timeMs);
    this.#watcher = watcher;
    watcher.start();
    this.#context = {
      target: plan.key,
      client,
      metadata: (extra: Readonly<Record<string, MetadataValue>> = {}) =>
        cachedMetadata(buildMetadata(spec.metadata, extra)),
      observer: withStartupGrace(sink, this.#options.startupGraceMs),
      evidence: new FailureEvidenceCollector(spec.address, spec.tls === undefined, watcher),
      connection: watcher,
      children: {
        add: (planned) => this.#addChild(planned),
        remove: (name) => this.#removeChild(name),
      },
      log: this.#log,
    };
    for (const planned of plan.probes) this.#probes.set(planned.name, planned.create(this.#context));
    for (const probe of this.#probes.values()) probe.start();
    const probes = Object.fromEntries([...this.#probes.values()].map((p) => [p.name, p.kind]));
    this.#log.info({ address: spec.address, probes }, 'target started');
  }

  /** Stops the probes, then closes the channel. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopping.abort();
      await Promise.all([...this.#probes.values()].map((p) => p.close()));
      this.#watcher?.markClosing();
      this.#client?.close();
      this.#log.info('target stopped');
    })();
    return this.#closed;
  }

  #addChild(planned: PlannedProbe): void {
    if (!this.#context || this.#closed || this.#probes.has(planned.name)) return;
    this.#options.sink.addProbe(this.plan.key, planned);
    const probe = planned.create(this.#context);
    this.#probes.set(planned.name, probe);
    probe.start();
  }

  async #removeChild(name: string): Promise<void> {
    const probe = this.#probes.get(name);
    if (!probe || this.plan.probes.some((p) => p.name === name)) return;
    this.#probes.delete(name);
    await probe.close();
    this.#options.sink.removeProbe(this.plan.key, probe);
  }
}

/** Built once per probe (secrets revealed once); each call gets its own copy, as grpc-js may add to it. */
function cachedMetadata(metadata: Metadata): () => Metadata {
  return () => metadata.clone();
}
