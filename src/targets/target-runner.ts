// Everything that runs for one target: its channel, its connection watcher and the probes its plan
// names. start() and close() are explicit and idempotent; close() stops every probe before it closes
// the channel they use. A runner per resolved backend (fan-out) is this with a backend's ChannelSpec.

import { Client, credentials } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MetadataValue } from '../config/secret.js';
import { ConnectionWatcher } from '../connection/watcher.js';
import { FailureEvidenceCollector } from '../probes/failure-evidence.js';
import type { TargetPlan } from '../probes/plan.js';
import type { PlannedProbe, Probe, ProbeContext } from '../probes/probe.js';
import { withStartupGrace } from '../probes/startup-grace.js';
import { withTransitionLogs } from '../probes/transition-log.js';
import { type ChannelSpec, createChannel, metadataSource } from './channel.js';
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
  #started = false;

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

  /**
   * Builds the channel, credentials, metadata and probes without starting anything, so a reload can
   * find out whether grpc-js accepts a target before it stops the running one. Throws what grpc-js
   * refuses (and closes what it had built). Idempotent; start() calls it.
   */
  prepare(): void {
    if (this.#client || this.#closed) return;
    const { plan, channel: spec, sink } = this.#options;
    const channel = createChannel(spec);
    try {
      // channelOverride: the client uses our channel; the address and credentials here are then unused.
      const client = new Client(spec.address, credentials.createInsecure(), { channelOverride: channel });
      const watcher = new ConnectionWatcher(plan.key, channel, sink, this.#log, spec.keepalive.timeMs);
      const context: ProbeContext = {
        target: plan.key,
        client,
        // Rebuilt when a from_file secret rotates (channel.ts metadataSource), cloned per call.
        metadata: (extra: Readonly<Record<string, MetadataValue>> = {}) =>
          metadataSource(spec.metadata, extra),
        observer: withTransitionLogs(withStartupGrace(sink, this.#options.startupGraceMs), this.#log),
        evidence: new FailureEvidenceCollector(spec.address, spec.tls, watcher),
        connection: watcher,
        children: {
          add: (planned) => this.#addChild(planned),
          remove: (name) => this.#removeChild(name),
        },
        log: this.#log,
      };
      const probes = plan.probes.map((planned) => [planned.name, planned.create(context)] as const);
      this.#client = client;
      this.#watcher = watcher;
      this.#context = context;
      for (const [name, probe] of probes) this.#probes.set(name, probe);
    } catch (err) {
      channel.close();
      throw err;
    }
  }

  start(): void {
    if (this.#started || this.#closed) return;
    this.prepare();
    this.#started = true;
    this.#watcher?.start();
    for (const probe of this.#probes.values()) probe.start();
    const probes = Object.fromEntries([...this.#probes.values()].map((p) => [p.name, p.kind]));
    this.#log.info({ address: this.#options.channel.address, probes }, 'target started');
  }

  /** Stops the probes, then closes the channel. Safe to call more than once. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#stopping.abort();
      await Promise.all([...this.#probes.values()].map((p) => p.close()));
      this.#watcher?.markClosing();
      this.#client?.close();
      if (this.#started) this.#log.info('target stopped');
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
