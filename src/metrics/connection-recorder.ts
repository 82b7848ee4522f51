// Turns connection events (channel states, connects, disconnects, peer certificates) into the
// connection series. Series of every configured target exist from the start; events of a target that
// is not configured (a late callback of a removed one) are dropped.

import { CHANNEL_STATES, type ChannelState } from '../outcome/channel-states.js';
import { DISCONNECT_REASONS, type DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { TargetPlan } from '../probes/plan.js';
import type { TargetSink } from '../targets/sink.js';
import { type HistogramFamily, type MetricTable, type ScalarFamily, targetLabels } from './metric-table.js';
import { CONNECTION_DURATION_BUCKETS, METRICS } from './names.js';

const CONNECT_RESULTS = ['success', 'failure'] as const;

/** The part of the sink port this recorder implements: targets and connection events. */
type ConnectionSink = Pick<
  TargetSink,
  'addTarget' | 'removeTarget' | 'channelState' | 'connectAttempt' | 'disconnect' | 'tlsCertExpiry'
>;

export class ConnectionRecorder implements ConnectionSink {
  readonly #state: ScalarFamily;
  readonly #transitions: ScalarFamily;
  readonly #connects: ScalarFamily;
  readonly #disconnects: ScalarFamily;
  readonly #certExpiry: ScalarFamily;
  readonly #duration: HistogramFamily;
  /** Configured targets (and fan-out backends) by plan key: the labels their series start with. */
  readonly #targets = new Map<string, Readonly<Record<string, string>>>();

  constructor(table: MetricTable) {
    this.#state = table.gauge(
      METRICS.channelState,
      'Connectivity state of the target channel, one-hot over the state label.',
      ['target', 'backend', 'state'],
    );
    this.#transitions = table.counter(
      METRICS.channelTransitions,
      'Connectivity state changes of the target channel.',
      ['target', 'backend', 'from', 'to'],
    );
    this.#connects = table.counter(
      METRICS.connectAttempts,
      'Connection attempts that ended READY (success) or failed (failure).',
      ['target', 'backend', 'result'],
    );
    this.#disconnects = table.counter(METRICS.disconnects, 'READY connections lost, by classified reason.', [
      'target',
      'backend',
      'reason',
    ]);
    this.#duration = table.histogram(
      METRICS.connectionDuration,
      'Age in seconds of each READY connection when it ended, by disconnect reason.',
      ['target', 'backend', 'reason'],
      CONNECTION_DURATION_BUCKETS,
    );
    this.#certExpiry = table.gauge(
      METRICS.tlsCertExpiry,
      'Expiry (Unix time) of the certificate the server presented on the last TLS connection.',
      ['target', 'backend'],
    );
  }

  addTarget(plan: TargetPlan): void {
    // A fan-out target connects per backend: each backend's plan brings its own series.
    if (plan.fanOut) return;
    const base = targetLabels(plan);
    this.#targets.set(plan.key, base);
    for (const state of CHANNEL_STATES) this.#state.set({ ...base, state }, state === 'IDLE' ? 1 : 0);
    for (const result of CONNECT_RESULTS) this.#connects.cell({ ...base, result });
    for (const reason of DISCONNECT_REASONS) this.#disconnects.cell({ ...base, reason });
  }

  removeTarget(target: string): void {
    this.#targets.delete(target);
    for (const family of [
      this.#state,
      this.#transitions,
      this.#connects,
      this.#disconnects,
      this.#certExpiry,
      this.#duration,
    ]) {
      family.removeTarget(target);
    }
  }

  channelState(target: string, state: ChannelState, previous: ChannelState | undefined): void {
    const base = this.#targets.get(target);
    if (!base) return;
    for (const s of CHANNEL_STATES) this.#state.set({ ...base, state: s }, s === state ? 1 : 0);
    if (previous !== undefined && previous !== state)
      this.#transitions.inc({ ...base, from: previous, to: state });
  }

  connectAttempt(target: string, result: 'success' | 'failure'): void {
    const base = this.#targets.get(target);
    if (base) this.#connects.inc({ ...base, result });
  }

  disconnect(target: string, reason: DisconnectReason, _details?: string, ageSeconds?: number): void {
    const base = this.#targets.get(target);
    if (!base) return;
    this.#disconnects.inc({ ...base, reason });
    if (ageSeconds === undefined) return;
    // Cells appear with the first disconnect of a reason: nine reasons × 17 buckets per target would
    // be a lot of zeros.
    this.#duration.observe(this.#duration.cell({ ...base, reason }), ageSeconds);
  }

  tlsCertExpiry(target: string, unixSeconds: number): void {
    const base = this.#targets.get(target);
    if (base) this.#certExpiry.set(base, unixSeconds);
  }
}
