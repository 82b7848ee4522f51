// The only code that turns probe events into prom-client series. Bound to an explicit Registry (the
// global one leaks between tests, see prom-client lib/metric.js); series of every configured probe are
// created zeroed when a target is added, and removed when it leaves, so rate() and absent() work.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { FAILURE_REASONS } from '../connection/reasons.js';
import { HEALTH_STATUSES, type HealthStatus, type ProbeObserver, type ProbeResult } from '../probes/probe.js';
import { GRPC_CODE_LABELS, grpcCodeLabel } from '../util/grpc-codes.js';
import { DEFAULT_DURATION_BUCKETS, METRICS } from './names.js';

/** What the recorder must know of a target to create its series up front. */
export interface RecordedTarget {
  name: string;
  /** The `probe` label of every probe of the target. */
  probes: readonly string[];
  /** The `health_service` label of every health probe. */
  healthServices: readonly string[];
  /** The health services probed with a Watch stream (they have a watch_up series). */
  watchServices: readonly string[];
}

export class ProbeRecorder implements ProbeObserver {
  readonly #success: Gauge<'target' | 'probe'>;
  readonly #attempts: Counter<'target' | 'probe'>;
  readonly #failures: Counter<'target' | 'probe' | 'reason'>;
  readonly #handled: Counter<'target' | 'probe' | 'grpc_code'>;
  readonly #duration: Histogram<'target' | 'probe'>;
  readonly #lastSuccess: Gauge<'target' | 'probe'>;
  readonly #healthStatus: Gauge<'target' | 'health_service' | 'status'>;
  readonly #healthChanges: Counter<'target' | 'health_service' | 'status'>;
  readonly #watchUp: Gauge<'target' | 'health_service'>;
  readonly #children = new Map<
    string,
    {
      attempts: ReturnType<Counter<'target' | 'probe'>['labels']>;
      success: ReturnType<Gauge<'target' | 'probe'>['labels']>;
      duration: ReturnType<Histogram<'target' | 'probe'>['labels']>;
      lastSuccess: ReturnType<Gauge<'target' | 'probe'>['labels']>;
    }
  >();
  /** The targets whose series exist, to remove exactly those series later. */
  readonly #targets = new Map<string, RecordedTarget>();
  /** Last health status per `target\0service`, to count transitions rather than repeats. */
  readonly #lastHealth = new Map<string, HealthStatus>();
  /** Probes whose success is continuous (a Watch reporting SERVING): last-success is "now" at scrape. */
  readonly #ongoing = new Map<string, { target: string; probe: string }>();

  constructor(registry: Registry, buckets: number[] = DEFAULT_DURATION_BUCKETS) {
    const registers = [registry];
    this.#success = new Gauge({
      name: METRICS.probeSuccess,
      help: 'Whether the last verdict of the probe was a success (1) or a failure (0).',
      labelNames: ['target', 'probe'],
      registers,
    });
    this.#attempts = new Counter({
      name: METRICS.probeAttempts,
      help: 'Probe attempts started: calls, and Watch streams opened.',
      labelNames: ['target', 'probe'],
      registers,
    });
    this.#failures = new Counter({
      name: METRICS.probeFailures,
      help: 'Probe failures by classified reason.',
      labelNames: ['target', 'probe', 'reason'],
      registers,
    });
    this.#handled = new Counter({
      name: METRICS.probeHandled,
      help: 'Probe calls completed, by gRPC status code.',
      labelNames: ['target', 'probe', 'grpc_code'],
      registers,
    });
    this.#duration = new Histogram({
      name: METRICS.probeDuration,
      help: 'Probe call latency in seconds (for Watch: time to the first message).',
      labelNames: ['target', 'probe'],
      buckets,
      registers,
    });
    const ongoing = this.#ongoing;
    this.#lastSuccess = new Gauge({
      name: METRICS.probeLastSuccess,
      help: 'Unix time of the last successful probe.',
      labelNames: ['target', 'probe'],
      registers,
      collect() {
        const now = Date.now() / 1000;
        for (const labels of ongoing.values()) this.set(labels, now);
      },
    });
    this.#healthStatus = new Gauge({
      name: METRICS.healthStatus,
      help: 'Current health status of the service, one-hot over the status label.',
      labelNames: ['target', 'health_service', 'status'],
      registers,
    });
    this.#healthChanges = new Counter({
      name: METRICS.healthChanges,
      help: 'Health status transitions, by the status entered.',
      labelNames: ['target', 'health_service', 'status'],
      registers,
    });
    this.#watchUp = new Gauge({
      name: METRICS.healthWatchUp,
      help: 'Whether the health Watch stream is open (1) or not (0).',
      labelNames: ['target', 'health_service'],
      registers,
    });
  }

  /** Creates every series of a target, zeroed, with health status UNKNOWN. */
  addTarget(target: RecordedTarget): void {
    this.#targets.set(target.name, target);
    for (const probe of target.probes) {
      const labels = { target: target.name, probe };
      this.#success.set(labels, 0);
      this.#attempts.inc(labels, 0);
      this.#handled.inc({ ...labels, grpc_code: 'OK' }, 0);
      this.#duration.zero(labels);
      this.#lastSuccess.set(labels, 0);
      for (const reason of FAILURE_REASONS) this.#failures.inc({ ...labels, reason }, 0);
    }
    for (const service of target.healthServices) {
      const labels = { target: target.name, health_service: service };
      if (target.watchServices.includes(service)) this.#watchUp.set(labels, 0);
      for (const status of HEALTH_STATUSES) this.#healthChanges.inc({ ...labels, status }, 0);
      this.#setHealthOneHot(target.name, service, 'UNKNOWN');
      this.#lastHealth.set(`${target.name}\0${service}`, 'UNKNOWN');
    }
  }

  /** Removes every series of a target that left the config (prom-client removes exact label sets only). */
  removeTarget(name: string): void {
    const target = this.#targets.get(name);
    if (!target) return;
    this.#targets.delete(name);
    for (const probe of target.probes) {
      const labels = { target: name, probe };
      for (const metric of [this.#success, this.#attempts, this.#duration, this.#lastSuccess])
        metric.remove(labels);
      for (const reason of FAILURE_REASONS) this.#failures.remove({ ...labels, reason });
      for (const code of GRPC_CODE_LABELS) this.#handled.remove({ ...labels, grpc_code: code });
      this.#ongoing.delete(`${name}\0${probe}`);
      this.#children.delete(`${name}\0${probe}`);
    }
    for (const service of target.healthServices) {
      const labels = { target: name, health_service: service };
      this.#watchUp.remove(labels);
      for (const status of HEALTH_STATUSES) {
        this.#healthStatus.remove({ ...labels, status });
        this.#healthChanges.remove({ ...labels, status });
      }
      this.#lastHealth.delete(`${name}\0${service}`);
    }
  }

  // Events of a target that already left (a late callback during close) must not re-create its series.

  attempt(target: string, probe: string): void {
    if (!this.#targets.has(target)) return;
    this.#bound(target, probe).attempts.inc();
  }

  /** Children bound to one probe's labels: a probe reports every few seconds, hash its labels once. */
  #bound(target: string, probe: string) {
    const key = `${target}\0${probe}`;
    let bound = this.#children.get(key);
    if (!bound) {
      const labels = { target, probe };
      bound = {
        attempts: this.#attempts.labels(labels),
        success: this.#success.labels(labels),
        duration: this.#duration.labels(labels),
        lastSuccess: this.#lastSuccess.labels(labels),
      };
      this.#children.set(key, bound);
    }
    return bound;
  }

  result(target: string, probe: string, result: ProbeResult): void {
    if (!this.#targets.has(target)) return;
    const labels = { target, probe };
    const key = `${target}\0${probe}`;
    const bound = this.#bound(target, probe);
    bound.success.set(result.success ? 1 : 0);
    if (result.code !== undefined) this.#handled.inc({ ...labels, grpc_code: grpcCodeLabel(result.code) });
    if (result.durationSeconds !== undefined) bound.duration.observe(result.durationSeconds);
    if (result.success) {
      bound.lastSuccess.set(Date.now() / 1000);
      if (result.ongoing) this.#ongoing.set(key, labels);
      else this.#ongoing.delete(key);
    } else {
      this.#ongoing.delete(key);
      this.#failures.inc({ ...labels, reason: result.reason ?? 'unknown' });
    }
  }

  healthStatus(target: string, service: string, status: HealthStatus): void {
    if (!this.#targets.has(target)) return;
    const key = `${target}\0${service}`;
    if (this.#lastHealth.get(key) === status) return;
    this.#lastHealth.set(key, status);
    this.#healthChanges.inc({ target, health_service: service, status });
    this.#setHealthOneHot(target, service, status);
  }

  watchUp(target: string, service: string, up: boolean | undefined): void {
    if (!this.#targets.has(target)) return;
    const labels = { target, health_service: service };
    if (up === undefined) this.#watchUp.remove(labels);
    else this.#watchUp.set(labels, up ? 1 : 0);
  }

  #setHealthOneHot(target: string, service: string, current: HealthStatus): void {
    for (const status of HEALTH_STATUSES) {
      this.#healthStatus.set({ target, health_service: service, status }, status === current ? 1 : 0);
    }
  }
}
