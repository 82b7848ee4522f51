// The fan-out part of the status page and /api/v1/targets: per fan-out target, its backends (each with
// its verdict, the reason it is down, its probes and channel state), how its name last resolved, and
// the backends' recent failures. StatusStore keeps the target's own entry; decorate() joins the two.

import { backendAddress, compareBackends, splitHostPort } from '../config/address.js';
import { type BackendState, backendState } from '../outcome/backend-states.js';
import type { ChannelState } from '../outcome/channel-states.js';
import type { DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { FailureReason } from '../outcome/failure-reasons.js';
import type { ProbeResult } from '../outcome/probe-result.js';
import type { TargetPlan } from '../probes/plan.js';
import type { ProbeSpec } from '../probes/probe.js';
import type { DiscoveryStatus } from '../targets/backend-discovery.js';
import type { TargetSink } from '../targets/sink.js';
import { grpcCodeLabel } from '../util/grpc-codes.js';
import {
  type DisconnectRecord,
  type FailureRecord,
  nextProbeStatus,
  type ProbeStatus,
  type StatusListener,
  StatusListeners,
  type TargetStatus,
} from './status-store.js';

const RECENT_EVENTS = 20;

/** One backend of a fan-out target, as /api/v1/targets shows it. */
export interface BackendView {
  /** `ip:port` (`[ip]:port` for IPv6): the `backend` label. */
  backend: string;
  state: BackendState;
  /** Why it is down: the reason of its first failing probe; null when up or before any verdict. */
  reason: FailureReason | null;
  /** The raw error of that probe, for humans. */
  details?: string;
  channelState: ChannelState;
  probes: Record<string, ProbeStatus>;
  tlsCertExpiry?: string;
}

/** What a fan-out target's entry gains. */
export interface FanOutStatus {
  backends: BackendView[];
  resolution: DiscoveryStatus;
}

interface Book {
  /** Backends by plan key, kept in address order. */
  backends: Map<string, BackendView>;
  /** Probe names in plan order: the first failing one names the reason. */
  probeOrder: string[];
  resolution: DiscoveryStatus;
  recentFailures: (FailureRecord & { backend: string })[];
  recentDisconnects: (DisconnectRecord & { backend: string })[];
}

type BookSink = Pick<
  TargetSink,
  | 'addTarget'
  | 'removeTarget'
  | 'addProbe'
  | 'removeProbe'
  | 'result'
  | 'channelState'
  | 'disconnect'
  | 'tlsCertExpiry'
  | 'resolution'
>;

const MAX_DETAILS = 500;
const truncate = (text: string) => (text.length > MAX_DETAILS ? `${text.slice(0, MAX_DETAILS)}…` : text);

function byAddress(a: string, b: string): number {
  const parse = (key: string) => {
    const hostPort = splitHostPort(key);
    return hostPort ? backendAddress(hostPort.host, hostPort.port) : undefined;
  };
  const x = parse(a);
  const y = parse(b);
  return x && y ? compareBackends(x, y) : a.localeCompare(b);
}

export class BackendStatusBook implements BookSink {
  readonly #listeners = new StatusListeners();
  /** Fan-out targets by name. */
  readonly #books = new Map<string, Book>();
  /** Backend plan key → its target's book and its backend label. */
  readonly #owners = new Map<string, { book: Book; backend: string }>();

  /** Calls `listener` after every change (the status page's live feed); returns the unsubscribe. */
  subscribe(listener: StatusListener): () => void {
    return this.#listeners.subscribe(listener);
  }

  #changed(significant: boolean): void {
    this.#listeners.notify(significant);
  }

  addTarget(plan: TargetPlan): void {
    if (plan.fanOut) {
      this.#books.set(plan.name, {
        backends: new Map(),
        probeOrder: plan.probes.map((p) => p.name),
        resolution: { state: 'pending', resolved: 0, notProbed: 0 },
        recentFailures: [],
        recentDisconnects: [],
      });
      return;
    }
    const book = plan.backend === undefined ? undefined : this.#books.get(plan.name);
    if (!book || plan.backend === undefined) return;
    const view: BackendView = {
      backend: plan.backend,
      state: 'down',
      reason: null,
      channelState: 'IDLE',
      probes: Object.fromEntries(plan.probes.map((p) => [p.name, { success: false, history: [] }])),
    };
    const entries = [...book.backends.entries(), [plan.key, view] as const];
    entries.sort(([, a], [, b]) => byAddress(a.backend, b.backend));
    book.backends = new Map(entries);
    this.#owners.set(plan.key, { book, backend: plan.backend });
    this.#changed(true);
  }

  removeTarget(key: string): void {
    const owner = this.#owners.get(key);
    if (owner) {
      this.#owners.delete(key);
      owner.book.backends.delete(key);
      this.#changed(true);
      return;
    }
    const book = this.#books.get(key);
    if (!book) return;
    this.#books.delete(key);
    for (const [backend, of] of this.#owners) if (of.book === book) this.#owners.delete(backend);
  }

  addProbe(key: string, probe: ProbeSpec): void {
    const view = this.#view(key);
    if (!view) return;
    view.probes[probe.name] = { success: false, history: [] };
    this.#judge(key, view);
  }

  removeProbe(key: string, probe: ProbeSpec): void {
    const view = this.#view(key);
    if (!view) return;
    delete view.probes[probe.name];
    this.#judge(key, view);
  }

  result(key: string, probe: string, result: ProbeResult): void {
    const owner = this.#owners.get(key);
    const view = owner?.book.backends.get(key);
    if (!owner || !view || !(probe in view.probes)) return;
    const now = new Date().toISOString();
    const { status, significant } = nextProbeStatus(view.probes[probe], result, now);
    if (!result.success) {
      owner.book.recentFailures.unshift({
        time: now,
        backend: owner.backend,
        probe,
        reason: status.lastReason ?? 'unknown',
        ...(result.code !== undefined ? { grpcCode: grpcCodeLabel(result.code) } : {}),
        details: status.lastDetails ?? '',
      });
      owner.book.recentFailures.length = Math.min(owner.book.recentFailures.length, RECENT_EVENTS);
    }
    view.probes[probe] = status;
    this.#judge(key, view);
    this.#changed(significant);
  }

  channelState(key: string, state: ChannelState): void {
    const view = this.#view(key);
    if (!view || view.channelState === state) return;
    view.channelState = state;
    this.#changed(true);
  }

  disconnect(key: string, reason: DisconnectReason, details: string): void {
    const owner = this.#owners.get(key);
    if (!owner) return;
    const { recentDisconnects } = owner.book;
    recentDisconnects.unshift({
      time: new Date().toISOString(),
      backend: owner.backend,
      reason,
      details: truncate(details),
    });
    recentDisconnects.length = Math.min(recentDisconnects.length, RECENT_EVENTS);
    this.#changed(true);
  }

  tlsCertExpiry(key: string, unixSeconds: number): void {
    const view = this.#view(key);
    if (view) view.tlsCertExpiry = new Date(unixSeconds * 1000).toISOString();
  }

  resolution(target: string, status: DiscoveryStatus): void {
    const book = this.#books.get(target);
    if (!book) return;
    const changed = book.resolution.state !== status.state || book.resolution.resolved !== status.resolved;
    book.resolution = { ...status };
    this.#changed(changed);
  }

  /**
   * The entries of `targets` (StatusStore's snapshot, or its uncopied view with `copy` false: the
   * status page's synchronous render) with, on each fan-out target, its backends and
   * resolution, and its backends' failures and disconnects among its recent ones (newest first).
   */
  decorate(targets: readonly TargetStatus[], copy = true): (TargetStatus & Partial<FanOutStatus>)[] {
    const own = <T>(value: T): T => (copy ? structuredClone(value) : value);
    return targets.map((target) => {
      const book = this.#books.get(target.name);
      if (!book) return target;
      const newestFirst = <T extends { time: string }>(a: T[], b: T[]) =>
        [...a, ...b].sort((x, y) => y.time.localeCompare(x.time)).slice(0, RECENT_EVENTS);
      return {
        ...target,
        backends: own([...book.backends.values()]),
        resolution: { ...book.resolution },
        recentFailures: newestFirst(target.recentFailures, own(book.recentFailures)),
        recentDisconnects: newestFirst(target.recentDisconnects, own(book.recentDisconnects)),
      };
    });
  }

  #view(key: string): BackendView | undefined {
    return this.#owners.get(key)?.book.backends.get(key);
  }

  /** The backend's state and, when down, the reason of its first failing probe (in plan order). */
  #judge(key: string, view: BackendView): void {
    const order = this.#owners.get(key)?.book.probeOrder ?? [];
    const names = [
      ...order.filter((n) => n in view.probes),
      ...Object.keys(view.probes).filter((n) => !order.includes(n)),
    ];
    const probes = names.map((n) => view.probes[n] as ProbeStatus);
    view.state = backendState(probes.map((p) => (p.lastResultTime === undefined ? undefined : p.success)));
    const failing = probes.find((p) => p.lastResultTime !== undefined && !p.success);
    view.reason = view.state === 'up' ? null : (failing?.lastReason ?? null);
    if (failing?.lastDetails && view.state === 'down') view.details = failing.lastDetails;
    else delete view.details;
  }
}
