// Health/List discovery (gRFC A90; SPEC "Config": `health: [{ discover: list }]`). On every new
// connection and every interval it calls grpc.health.v1.Health/List and keeps one Watch probe per listed
// service (at most 100, A90's cap) as children of the target: a service that appears gets its probe and
// series, one that goes away loses them. A server without List (UNIMPLEMENTED) is warned about and
// watched as a whole (service ""), besides the services configured by name, which run as always.
// The List call itself is the probe `health_list` (its attempts, failures and latency).

import { status as Status } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import type { TargetConfig } from '../config/schema.js';
import type { OneShotResult, ProbeResult } from '../outcome/probe-result.js';
import { GRPC_CODE_NAMES } from '../util/grpc-codes.js';
import { type CallOutcome, callUnary, type UnaryMethod } from './call.js';
import { healthWatchProbe } from './health-watch.js';
import { healthProbeName, type PlannedProbe, type Probe, type ProbeContext } from './probe.js';
import { PeriodicTask } from './scheduler.js';

/** The `probe` label of the List call (reserved for rpc names by the config checks). */
export const HEALTH_LIST_PROBE = 'health_list';
/** gRFC A90: a server lists at most 100 services (and answers RESOURCE_EXHAUSTED beyond). */
export const MAX_LISTED_SERVICES = 100;
/** Listed names become label values: they must look like service names, and be short. */
const LISTED_NAME_RE = /^([A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)?$/;
const MAX_NAME_LENGTH = 200;
/** How often the loop looks for a new connection between Lists (a read of a counter, no I/O). */
const CONNECTION_POLL_MS = 250;

interface ListResponse {
  statuses?: Record<string, { status?: string }>;
}

const HEALTH_LIST = (() => {
  const definition = healthService.List;
  if (!definition) throw new Error('grpc-health-check has no List method');
  return definition as unknown as UnaryMethod<Record<string, never>, ListResponse>;
})();

export class HealthListProbe implements Probe {
  readonly name = HEALTH_LIST_PROBE;
  readonly kind = 'health_list';
  readonly timeoutMs: number;
  readonly #config: TargetConfig;
  readonly #ctx: ProbeContext;
  readonly #task: PeriodicTask;
  /** Services configured by name: they run as plan probes, never as children. */
  readonly #configured: ReadonlySet<string>;
  /** The services whose Watch probes this probe started (probe label `health:<service>`). */
  readonly #children = new Set<string>();
  /** The connection (ConnectionView.connections) and time of the last List; -1: none yet. */
  #listedOn = -1;
  #listedAt = 0;
  /** Whether the server answered List UNIMPLEMENTED last time: the fallback is in place. */
  #fallback = false;
  #warnedTooMany = false;

  constructor(config: TargetConfig, ctx: ProbeContext) {
    this.timeoutMs = config.timeoutMs;
    this.#config = config;
    this.#ctx = ctx;
    this.#configured = new Set(config.health.flatMap((h) => ('service' in h ? [h.service] : [])));
    this.#task = new PeriodicTask((signal) => this.#attempt(signal), {
      intervalMs: config.intervalMs,
      maxInitialDelayMs: 0,
    });
  }

  start(): void {
    this.#task.start();
  }

  async close(): Promise<void> {
    await this.#task.close();
    // The runner closes every probe on its way out; this keeps a closed List from leaving orphans.
    await Promise.all(
      [...this.#children].map((service) => this.#ctx.children.remove(healthProbeName(service))),
    );
    this.#children.clear();
  }

  /** One List now, unrecorded, for /probe; it does not change which services are watched. */
  async once(timeoutMs: number, signal: AbortSignal): Promise<OneShotResult | undefined> {
    const outcome = await this.#list(timeoutMs, signal);
    if (outcome.kind === 'cancelled') return undefined;
    return { result: (await this.#verdict(outcome)).result };
  }

  /** Lists when the connection is new or the interval has passed; otherwise looks again shortly. */
  async #attempt(signal: AbortSignal): Promise<number> {
    const { connection, observer, target } = this.#ctx;
    const sinceMs = performance.now() - this.#listedAt;
    const newConnection = connection.connections !== this.#listedOn && connection.state === 'READY';
    if (this.#listedOn !== -1 && !newConnection && sinceMs < this.#config.intervalMs)
      return Math.min(CONNECTION_POLL_MS, this.#config.intervalMs - sinceMs);
    this.#listedOn = connection.connections;
    this.#listedAt = performance.now();
    observer.attempt(target, this.name);
    const outcome = await this.#list(this.timeoutMs, signal);
    if (outcome.kind === 'cancelled') return 0;
    const { result, services } = await this.#verdict(outcome);
    observer.result(target, this.name, result);
    if (services) await this.#reconcile(services);
    // The connection the List ran on (it may have connected during the call).
    this.#listedOn = connection.connections;
    return Math.min(CONNECTION_POLL_MS, this.#config.intervalMs);
  }

  #list(timeoutMs: number, signal: AbortSignal): Promise<CallOutcome<ListResponse>> {
    return callUnary(
      this.#ctx.client,
      HEALTH_LIST,
      {},
      { deadlineMs: timeoutMs, metadata: this.#ctx.metadata()(), signal },
    );
  }

  /** The List's verdict and, when it decided them, the services to watch. */
  async #verdict(
    outcome: Exclude<CallOutcome<ListResponse>, { kind: 'cancelled' }>,
  ): Promise<{ result: ProbeResult; services?: string[] }> {
    const { log } = this.#ctx;
    const { durationSeconds } = outcome;
    if (outcome.kind === 'ok') {
      if (this.#fallback) log.info('health List answers again: watching the listed services');
      this.#fallback = false;
      return {
        result: { success: true, code: Status.OK, durationSeconds },
        services: this.#listed(outcome.response),
      };
    }
    const { code, details } = outcome;
    if (code === Status.UNIMPLEMENTED) {
      // Not a failure of the target: an older server. Watch it as a whole, as without discovery.
      if (!this.#fallback)
        log.warn(
          { details },
          'health List is UNIMPLEMENTED on this server: watching the configured services and the server as a whole',
        );
      this.#fallback = true;
      return { result: { success: true, code, durationSeconds }, services: [''] };
    }
    // Any other failure keeps the services watched so far: a blip must not drop their series.
    const reason = await this.#ctx.evidence.classify({ code, details });
    if (code === Status.RESOURCE_EXHAUSTED)
      log.warn(
        { details },
        `health List: the server has more than ${MAX_LISTED_SERVICES} services (A90's cap)`,
      );
    const name = GRPC_CODE_NAMES[code] ?? String(code);
    return { result: { success: false, reason, code, details: details || name, durationSeconds } };
  }

  /** The listed names that can be watched: valid service names, sorted, at most MAX_LISTED_SERVICES. */
  #listed(response: ListResponse): string[] {
    const names = Object.keys(response.statuses ?? {}).sort();
    const valid = names.filter((n) => n.length <= MAX_NAME_LENGTH && LISTED_NAME_RE.test(n));
    if (valid.length < names.length)
      this.#ctx.log.warn(
        { skipped: names.length - valid.length },
        'health List named services that are not service names',
      );
    if (valid.length > MAX_LISTED_SERVICES && !this.#warnedTooMany) {
      this.#warnedTooMany = true;
      this.#ctx.log.warn(
        { listed: valid.length, watched: MAX_LISTED_SERVICES },
        `health List named more than ${MAX_LISTED_SERVICES} services: watching the first ${MAX_LISTED_SERVICES}`,
      );
    }
    return valid.slice(0, MAX_LISTED_SERVICES);
  }

  /** Starts a Watch probe per new service and stops those of services no longer listed. */
  async #reconcile(services: readonly string[]): Promise<void> {
    const wanted = new Set(services.filter((s) => !this.#configured.has(s)));
    const gone = [...this.#children].filter((s) => !wanted.has(s));
    for (const service of gone) {
      this.#children.delete(service);
      await this.#ctx.children.remove(healthProbeName(service));
    }
    for (const service of wanted) {
      if (this.#children.has(service)) continue;
      this.#children.add(service);
      this.#ctx.children.add(healthWatchProbe(this.#config, { service, mode: 'watch' }));
    }
    if (gone.length > 0 || wanted.size !== this.#children.size)
      this.#ctx.log.debug({ gone, watched: [...this.#children] }, 'health List reconciled');
  }
}

/** The plan entry of `discover: list`. */
export function healthListProbe(config: TargetConfig): PlannedProbe {
  return {
    name: HEALTH_LIST_PROBE,
    kind: 'health_list',
    timeoutMs: config.timeoutMs,
    create: (ctx) => new HealthListProbe(config, ctx),
  };
}
