// Turns probe events into the grpc_probe_* series (SPEC "Metrics"). Series of every configured probe
// are created zeroed when a target is added and removed when it leaves, so rate() and absent() work;
// events of a target that is not (or no longer) configured are dropped.

import { FAILURE_REASONS } from '../outcome/failure-reasons.js';
import { HEALTH_STATUSES, type HealthStatus } from '../outcome/health-statuses.js';
import type { ProbeResult } from '../outcome/probe-result.js';
import type { TargetPlan } from '../probes/plan.js';
import type { ProbeSpec } from '../probes/probe.js';
import type { TargetSink } from '../targets/sink.js';
import { grpcCodeLabel } from '../util/grpc-codes.js';
import type { HistogramFamily, MetricTable, ScalarFamily } from './metric-table.js';
import { DEFAULT_DURATION_BUCKETS, METRICS } from './names.js';

/** The part of the sink port this recorder implements: targets, probes and probe events. */
type ProbeSink = Pick<
  TargetSink,
  | 'addTarget'
  | 'removeTarget'
  | 'addProbe'
  | 'removeProbe'
  | 'attempt'
  | 'result'
  | 'healthStatus'
  | 'watchUp'
>;

/** The cells one probe updates on every attempt, resolved once. */
interface ProbeCells {
  attempts: { value: number };
  success: { value: number };
  lastSuccess: { value: number };
  duration: ReturnType<HistogramFamily['cell']>;
  /** Failures by reason, in FAILURE_REASONS order. */
  failures: Map<string, { value: number }>;
  /** A stream probe's grpc_probe_stream_* cells. */
  stream?: {
    messages: { value: number };
    firstMessage: ReturnType<HistogramFamily['cell']>;
    maxGap: { value: number };
  };
}

export class ProbeRecorder implements ProbeSink {
  readonly #success: ScalarFamily;
  readonly #attempts: ScalarFamily;
  readonly #failures: ScalarFamily;
  readonly #handled: ScalarFamily;
  readonly #duration: HistogramFamily;
  readonly #lastSuccess: ScalarFamily;
  readonly #healthStatus: ScalarFamily;
  readonly #healthChanges: ScalarFamily;
  readonly #watchUp: ScalarFamily;
  readonly #streamMessages: ScalarFamily;
  readonly #streamFirstMessage: HistogramFamily;
  readonly #streamMaxGap: ScalarFamily;
  /** Per `target\0probe`: the cells of a configured probe. Its presence means "configured". */
  readonly #probes = new Map<string, ProbeCells>();
  /** Configured targets, each with the `#probes` and `#lastHealth` keys it owns (removal cost: its own). */
  readonly #targets = new Map<string, Set<string>>();
  /** Last health status per `target\0service`, to count transitions rather than repeats. */
  readonly #lastHealth = new Map<string, HealthStatus>();
  /** Probes whose success is continuous (a Watch reporting SERVING): last-success is "now" at scrape. */
  readonly #ongoing = new Set<ProbeCells>();

  constructor(table: MetricTable, buckets: readonly number[] = DEFAULT_DURATION_BUCKETS) {
    const probe = ['target', 'probe'];
    this.#success = table.gauge(
      METRICS.probeSuccess,
      'Whether the last verdict of the probe was a success (1) or a failure (0).',
      probe,
    );
    this.#attempts = table.counter(
      METRICS.probeAttempts,
      'Probe attempts started: calls, and Watch streams opened.',
      probe,
    );
    this.#failures = table.counter(METRICS.probeFailures, 'Probe failures by classified reason.', [
      ...probe,
      'reason',
    ]);
    this.#handled = table.counter(METRICS.probeHandled, 'Probe calls completed, by gRPC status code.', [
      ...probe,
      'grpc_code',
    ]);
    this.#duration = table.histogram(
      METRICS.probeDuration,
      'Probe call latency in seconds (for Watch: time to the first message).',
      probe,
      buckets,
    );
    this.#lastSuccess = table.gauge(
      METRICS.probeLastSuccess,
      'Unix time of the last successful probe.',
      probe,
    );
    const health = ['target', 'health_service'];
    this.#healthStatus = table.gauge(
      METRICS.healthStatus,
      'Current health status of the service, one-hot over the status label.',
      [...health, 'status'],
    );
    this.#healthChanges = table.counter(
      METRICS.healthChanges,
      'Health status transitions, by the status entered.',
      [...health, 'status'],
    );
    this.#watchUp = table.gauge(
      METRICS.healthWatchUp,
      'Whether the health Watch stream is open (1) or not (0).',
      health,
    );
    this.#streamMessages = table.counter(
      METRICS.streamMessages,
      'Messages received by a stream probe.',
      probe,
    );
    this.#streamFirstMessage = table.histogram(
      METRICS.streamFirstMessage,
      'Time from opening a probe stream to its first message, in seconds.',
      probe,
      buckets,
    );
    this.#streamMaxGap = table.gauge(
      METRICS.streamMaxGap,
      'Longest gap between messages of the current (or last) probe stream, in seconds.',
      probe,
    );
    table.onRender(() => {
      const now = Date.now() / 1000;
      for (const cells of this.#ongoing) cells.lastSuccess.value = now;
    });
  }

  /** Creates every series of a target, zeroed, with health status UNKNOWN. */
  addTarget(plan: TargetPlan): void {
    if (!this.#targets.has(plan.name)) this.#targets.set(plan.name, new Set());
    for (const probe of plan.probes) this.addProbe(plan.name, probe);
  }

  /** Creates the series of one probe of a configured target, zeroed. */
  addProbe(target: string, probe: ProbeSpec): void {
    const owned = this.#targets.get(target);
    if (!owned) return;
    const labels = { target, probe: probe.name };
    const failures = new Map(
      FAILURE_REASONS.map((reason) => [reason, this.#failures.cell({ ...labels, reason })]),
    );
    this.#handled.cell({ ...labels, grpc_code: 'OK' });
    owned.add(`${target}\0${probe.name}`);
    this.#probes.set(`${target}\0${probe.name}`, {
      attempts: this.#attempts.cell(labels),
      success: this.#success.cell(labels),
      lastSuccess: this.#lastSuccess.cell(labels),
      duration: this.#duration.cell(labels),
      failures,
      ...(probe.stream
        ? {
            stream: {
              messages: this.#streamMessages.cell(labels),
              firstMessage: this.#streamFirstMessage.cell(labels),
              maxGap: this.#streamMaxGap.cell(labels),
            },
          }
        : {}),
    });
    if (!probe.health) return;
    const { service, watch } = probe.health;
    const health = { target, health_service: service };
    if (watch) this.#watchUp.set(health, 0);
    for (const status of HEALTH_STATUSES) this.#healthChanges.cell({ ...health, status });
    this.#setHealthOneHot(target, service, 'UNKNOWN');
    owned.add(`${target}\0${service}`);
    this.#lastHealth.set(`${target}\0${service}`, 'UNKNOWN');
  }

  /** Removes the series of one probe (and of its health service, if it had one). */
  removeProbe(target: string, spec: ProbeSpec): void {
    const probe = spec.name;
    const healthService = spec.health?.service;
    const key = `${target}\0${probe}`;
    const cells = this.#probes.get(key);
    if (cells) this.#ongoing.delete(cells);
    this.#probes.delete(key);
    this.#targets.get(target)?.delete(key);
    for (const family of this.#probeFamilies()) family.removeMatching({ target, probe });
    if (healthService === undefined) return;
    for (const family of [this.#healthStatus, this.#healthChanges, this.#watchUp]) {
      family.removeMatching({ target, health_service: healthService });
    }
    this.#lastHealth.delete(`${target}\0${healthService}`);
    this.#targets.get(target)?.delete(`${target}\0${healthService}`);
  }

  /** Removes every series of a target that left the config. */
  removeTarget(name: string): void {
    for (const family of this.#probeFamilies()) family.removeTarget(name);
    for (const family of [this.#healthStatus, this.#healthChanges, this.#watchUp]) family.removeTarget(name);
    for (const key of this.#targets.get(name) ?? []) {
      const cells = this.#probes.get(key);
      if (cells) this.#ongoing.delete(cells);
      this.#probes.delete(key);
      this.#lastHealth.delete(key);
    }
    this.#targets.delete(name);
  }

  attempt(target: string, probe: string): void {
    const cells = this.#probes.get(`${target}\0${probe}`);
    if (cells) cells.attempts.value += 1;
  }

  result(target: string, probe: string, result: ProbeResult): void {
    const cells = this.#probes.get(`${target}\0${probe}`);
    if (!cells) return;
    cells.success.value = result.success ? 1 : 0;
    if (result.code !== undefined)
      this.#handled.inc({ target, probe, grpc_code: grpcCodeLabel(result.code) });
    if (result.durationSeconds !== undefined) this.#duration.observe(cells.duration, result.durationSeconds);
    if (result.stream && cells.stream) {
      const { messages, firstMessageSeconds, maxGapSeconds } = result.stream;
      cells.stream.messages.value += messages;
      if (firstMessageSeconds !== undefined)
        this.#streamFirstMessage.observe(cells.stream.firstMessage, firstMessageSeconds);
      if (maxGapSeconds !== undefined) cells.stream.maxGap.value = maxGapSeconds;
    }
    if (result.success) {
      cells.lastSuccess.value = Date.now() / 1000;
      if (result.ongoing) this.#ongoing.add(cells);
      else this.#ongoing.delete(cells);
    } else {
      this.#ongoing.delete(cells);
      const failure = cells.failures.get(result.reason ?? 'unknown');
      if (failure) failure.value += 1;
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

  /** Every family labelled (target, probe). */
  #probeFamilies(): (ScalarFamily | HistogramFamily)[] {
    return [
      this.#success,
      this.#attempts,
      this.#failures,
      this.#handled,
      this.#lastSuccess,
      this.#duration,
      this.#streamMessages,
      this.#streamFirstMessage,
      this.#streamMaxGap,
    ];
  }

  #setHealthOneHot(target: string, service: string, current: HealthStatus): void {
    for (const status of HEALTH_STATUSES) {
      this.#healthStatus.set({ target, health_service: service, status }, status === current ? 1 : 0);
    }
  }
}
