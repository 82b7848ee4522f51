// Turns connection events (channel states, connects, disconnects, peer certificates) into the
// connection series. Series of every configured target exist from the start; events of a target that
// is not configured (a late callback of a removed one) are dropped.

import { CHANNEL_STATES, type ChannelState } from '../outcome/channel-states.js';
import { DISCONNECT_REASONS, type DisconnectReason } from '../outcome/disconnect-reasons.js';
import type { TargetPlan } from '../probes/plan.js';
import type { TargetSink } from '../targets/sink.js';
import type { MetricTable, ScalarFamily } from './metric-table.js';
import { METRICS } from './names.js';

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

  disconnect(target: string, reason: DisconnectReason): void {
    if (this.#targets.has(target)) this.#disconnects.inc({ target, reason });
  }

  tlsCertExpiry(target: string, unixSeconds: number): void {
    if (this.#targets.has(target)) this.#certExpiry.set({ target }, unixSeconds);
  }
}
