// Turns connection events (channel states, connects, disconnects, peer certificates) into the
// connection series. Series of every configured target exist from the start; events of a target that
// is not configured (a late callback of a removed one) are dropped.

import { CHANNEL_STATES, type ChannelState } from '../outcome/channel-states.js';
import { DISCONNECT_REASONS, type DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { TargetPlan } from '../probes/plan.js';
import type { TargetSink } from '../targets/sink.js';
import type { HistogramFamily, MetricTable, ScalarFamily } from './metric-table.js';
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
  readonly #targets = new Set<string>();

  constructor(table: MetricTable) {
    this.#state = table.gauge(
      METRICS.channelState,
      'Connectivity state of the target channel, one-hot over the state label.',
      ['target', 'state'],
    );
    this.#transitions = table.counter(
      METRICS.channelTransitions,
      'Connectivity state changes of the target channel.',
      ['target', 'from', 'to'],
    );
    this.#connects = table.counter(
      METRICS.connectAttempts,
      'Connection attempts that ended READY (success) or failed (failure).',
      ['target', 'result'],
    );
    this.#disconnects = table.counter(METRICS.disconnects, 'READY connections lost, by classified reason.', [
      'target',
      'reason',
    ]);
    this.#duration = table.histogram(
      METRICS.connectionDuration,
      'Age in seconds of each READY connection when it ended, by disconnect reason.',
      ['target', 'reason'],
      CONNECTION_DURATION_BUCKETS,
    );
    this.#certExpiry = table.gauge(
      METRICS.tlsCertExpiry,
      'Expiry (Unix time) of the certificate the server presented on the last TLS connection.',
      ['target'],
    );
  }

  addTarget(plan: TargetPlan): void {
    const target = plan.name;
    this.#targets.add(target);
    for (const state of CHANNEL_STATES) this.#state.set({ target, state }, state === 'IDLE' ? 1 : 0);
    for (const result of CONNECT_RESULTS) this.#connects.cell({ target, result });
    for (const reason of DISCONNECT_REASONS) this.#disconnects.cell({ target, reason });
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
    if (!this.#targets.has(target)) return;
    for (const s of CHANNEL_STATES) this.#state.set({ target, state: s }, s === state ? 1 : 0);
    if (previous !== undefined && previous !== state)
      this.#transitions.inc({ target, from: previous, to: state });
  }

  connectAttempt(target: string, result: 'success' | 'failure'): void {
    if (this.#targets.has(target)) this.#connects.inc({ target, result });
  }

  disconnect(target: string, reason: DisconnectReason, _details?: string, ageSeconds?: number): void {
    if (!this.#targets.has(target)) return;
    this.#disconnects.inc({ target, reason });
    if (ageSeconds === undefined) return;
    // Cells appear with the first disconnect of a reason: nine reasons × 17 buckets per target would
    // be a lot of zeros.
    this.#duration.observe(this.#duration.cell({ target, reason }), ageSeconds);
  }

  tlsCertExpiry(target: string, unixSeconds: number): void {
    if (this.#targets.has(target)) this.#certExpiry.set({ target }, unixSeconds);
  }
}
