// The one shape every probe has, and what it is given. Probes know nothing of prom-client or fastify:
// they report to a ProbeObserver (the recorders and the status store behind the target's sink).
//
// How a probe comes to run:
//   plan.ts       planTarget(config) → TargetPlan: pure data (names, kinds, timeouts, health series)
//                 plus, per probe, a factory `create(ctx)`; no I/O, so the sink can make every series
//                 before the first attempt and /probe can list the modules.
//   TargetRunner  builds the channel from a ChannelSpec, the ProbeContext (client, connection view,
//                 failure evidence, observer), calls create() for each planned probe, then start();
//                 close() closes every probe before the channel.
//   a probe       owns its loop (a PeriodicTask: periodic calls, or a stream re-opened with backoff)
//                 and reports each attempt and verdict; `once()` runs one attempt unrecorded (/probe).
// A new kind is one file here exporting a `PlannedProbe` factory, plus one line in plan.ts. A kind that
// discovers probes at run time (health List) adds and removes them through `ctx.children`. A runner per
// resolved backend (fan-out) is a TargetRunner built from that backend's ChannelSpec; probes cannot tell.

import type { Client, Metadata } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { MetadataValue } from '../config/secret.js';
import type { ConnectionView } from '../connection/watcher.js';
import type { HealthStatus } from '../outcome/health-statuses.js';
import type { OneShotResult, ProbeResult } from '../outcome/probe-result.js';
import type { FailureEvidenceCollector } from './failure-evidence.js';

/**
 * What kind of probe this is, named after its file (`health_watch`, `health_check`, `unary`): for logs
 * (the runner's "target started" line), never a label. A plain string, so a new kind touches no list.
 */
export type ProbeKind = string;

/** What is known of a probe before it runs: enough to create its series and answer /probe. */
export interface ProbeSpec {
  /** The `probe` label (SPEC "Metrics"): `health`, `health:<service>`, or the rpc's name. */
  readonly name: string;
  readonly kind: ProbeKind;
  /** The deadline of one attempt (for a stream: of its first message). */
  readonly timeoutMs: number;
  /** The health service whose status series this probe reports, if it is a health probe. */
  readonly health?: { readonly service: string; readonly watch: boolean };
  /** A stream probe: it also reports the grpc_probe_stream_* series (StreamProgress). */
  readonly stream?: boolean;
}

/** A running probe. The constructor does no I/O; start() and close() are idempotent. */
export interface Probe extends ProbeSpec {
  start(): void;
  /** Stops the loop, aborts a running attempt and resolves when it has returned. */
  close(): Promise<void>;
  /**
   * One attempt now, outside the schedule and unrecorded (blackbox-style /probe), with its own
   * deadline; undefined when it was cancelled through `signal`.
   */
  once(timeoutMs: number, signal: AbortSignal): Promise<OneShotResult | undefined>;
}

/** One entry of a plan: the probe's spec and how to build it on a running target. */
export interface PlannedProbe extends ProbeSpec {
  create(ctx: ProbeContext): Probe;
}

/** Where probes report. Every method must be cheap and must not throw: it runs inside gRPC callbacks. */
export interface ProbeObserver {
  /** A probe started an attempt (a call, or opening a Watch stream). */
  attempt(target: string, probe: string): void;
  result(target: string, probe: string, result: ProbeResult): void;
  healthStatus(target: string, service: string, status: HealthStatus): void;
  /** Whether the Watch stream is open; undefined when the service is checked, not watched (fallback). */
  watchUp(target: string, service: string, up: boolean | undefined): void;
}

/** Probes a running probe adds and removes (health List discovery); the runner starts and closes them. */
export interface ProbeChildren {
  add(planned: PlannedProbe): void;
  remove(name: string): Promise<void>;
}

/** What a running target gives each of its probes. */
export interface ProbeContext {
  /** The `target` label. */
  readonly target: string;
  /** A client on the target's own channel. */
  readonly client: Client;
  /** The target's metadata merged with `extra` (extra wins), secrets revealed; a fresh copy per call. */
  metadata(extra?: Readonly<Record<string, MetadataValue>>): () => Metadata;
  readonly observer: ProbeObserver;
  /** Classifies failed calls of this target, with what its channel did as evidence. */
  readonly evidence: FailureEvidenceCollector;
  readonly connection: ConnectionView;
  readonly children: ProbeChildren;
  /** The target's logger. */
  readonly log: Logger;
}

/** The `probe` label of a health probe (SPEC "Metrics"): `health` for the server, `health:<service>`. */
export function healthProbeName(service: string): string {
  return service === '' ? 'health' : `health:${service}`;
}
