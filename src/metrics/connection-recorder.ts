// Turns connection events (channel states, connects, disconnects, peer certificates) into prom-client
// series on an explicit registry. Series of every configured target exist from the start.

import { Counter, Gauge, type Registry } from 'prom-client';
import { DISCONNECT_REASONS, type DisconnectReason } from '../connection/reasons.js';
import { CHANNEL_STATES, type ChannelState, type ConnectionObserver } from '../connection/watcher.js';
import { METRICS } from './names.js';

const CONNECT_RESULTS = ['success', 'failure'] as const;

export class ConnectionRecorder implements ConnectionObserver {
  readonly #state: Gauge<'target' | 'state'>;
  readonly #transitions: Counter<'target' | 'from' | 'to'>;
  readonly #connects: Counter<'target' | 'result'>;
  readonly #disconnects: Counter<'target' | 'reason'>;
  readonly #certExpiry: Gauge<'target'>;
  /** Targets whose series exist; events of others (late callbacks of a removed target) are dropped. */
  readonly #targets = new Set<string>();

  constructor(registry: Registry) {
    const registers = [registry];
    this.#state = new Gauge({
      name: METRICS.channelState,
      help: 'Connectivity state of the target channel, one-hot over the state label.',
      labelNames: ['target', 'state'],
      registers,
    });
    this.#transitions = new Counter({
      name: METRICS.channelTransitions,
      help: 'Connectivity state changes of the target channel.',
      labelNames: ['target', 'from', 'to'],
      registers,
    });
    this.#connects = new Counter({
      name: METRICS.connectAttempts,
      help: 'Connection attempts that ended READY (success) or failed (failure).',
      labelNames: ['target', 'result'],
      registers,
    });
    this.#disconnects = new Counter({
      name: METRICS.disconnects,
      help: 'READY connections lost, by classified reason.',
      labelNames: ['target', 'reason'],
      registers,
    });
    this.#certExpiry = new Gauge({
      name: METRICS.tlsCertExpiry,
      help: 'Expiry (Unix time) of the certificate the server presented on the last TLS connection.',
      labelNames: ['target'],
      registers,
    });
  }

  addTarget(target: string): void {
    this.#targets.add(target);
    for (const state of CHANNEL_STATES) this.#state.set({ target, state }, state === 'IDLE' ? 1 : 0);
    for (const result of CONNECT_RESULTS) this.#connects.inc({ target, result }, 0);
    for (const reason of DISCONNECT_REASONS) this.#disconnects.inc({ target, reason }, 0);
  }

  removeTarget(target: string): void {
    this.#targets.delete(target);
    for (const state of CHANNEL_STATES) {
      this.#state.remove({ target, state });
      for (const to of CHANNEL_STATES) this.#transitions.remove({ target, from: state, to });
    }
    for (const result of CONNECT_RESULTS) this.#connects.remove({ target, result });
    for (const reason of DISCONNECT_REASONS) this.#disconnects.remove({ target, reason });
    this.#certExpiry.remove({ target });
  }

  channelState(target: string, state: ChannelState, previous: ChannelState | undefined): void {
    if (!this.#targets.has(target)) return;
    for (const s of CHANNEL_STATES) this.#state.set({ target, state: s }, s === state ? 1 : 0);
    if (previous !== undefined && previous !== state)
      this.#transitions.inc({ target, from: previous, to: state });
  }

  connectAttempt(target: string, result: 'success' | 'failure'): void {
    if (!this.#targets.has(target)) return;
    this.#connects.inc({ target, result });
  }

  disconnect(target: string, reason: DisconnectReason): void {
    if (!this.#targets.has(target)) return;
    this.#disconnects.inc({ target, reason });
  }

  tlsCertExpiry(target: string, unixSeconds: number): void {
    if (!this.#targets.has(target)) return;
    this.#certExpiry.set({ target }, unixSeconds);
  }
}
