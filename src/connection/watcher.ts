// Watches one target's channel through grpc-js's public connectivity API, re-arming in its callback
// (grpc-js calls watchers synchronously after it stores the new state, so no transition is missed).
// It reports states, transitions and connect attempts, and when a READY connection goes away it asks
// the trace tap how that socket ended and reports one classified disconnect.

import { type Channel, connectivityState as State } from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { CHANNEL_STATES, type ChannelState } from '../outcome/channel-states.js';
import { type DisconnectReason, isGracefulDisconnect } from '../outcome/disconnect-reasons.js';
import { channelSockets } from './channelz.js';
import { classifyDisconnect, type DisconnectVerdict } from './classify.js';
import { type TransportEvidence, traceTap } from './trace-tap.js';

/** Where connection events go; implemented by the recorders and the status store. */
export interface ConnectionObserver {
  channelState(target: string, state: ChannelState, previous: ChannelState | undefined): void;
  connectAttempt(target: string, result: 'success' | 'failure'): void;
  /** `ageSeconds`: how long the connection had been READY when it ended (the watcher always knows). */
  disconnect(target: string, reason: DisconnectReason, details: string, ageSeconds?: number): void;
  tlsCertExpiry(target: string, unixSeconds: number): void;
}

/** The last disconnect of a target, as evidence for the failure classifier and for drain detection. */
export interface LastDisconnect {
  reason: DisconnectReason;
  /** performance.now() when it was seen. */
  at: number;
}

/** The read-only view of a target's connection that probes use as evidence. */
export interface ConnectionView {
  readonly state: ChannelState | undefined;
  readonly lastDisconnect: LastDisconnect | undefined;
  /** Counts READY transitions; changes whenever the target is reached over a new connection. */
  readonly connections: number;
}

export class ConnectionWatcher implements ConnectionView {
  readonly #target: string;
  readonly #channel: Channel;
  readonly #observer: ConnectionObserver;
  readonly #log: Logger;
  /** The state last reported; undefined before start(). */
  #state: ChannelState | undefined;
  /** Sockets seen while READY; their evidence is read when READY ends. */
  #sockets: number[] = [];
  #closing = false;
  #last: LastDisconnect | undefined;
  #connections = 0;
  /** performance.now() when the channel last became READY: the start of the current connection. */
  #readyAt = 0;
  readonly #keepaliveTimeMs: number;
  /** The keepalive-mismatch warning is logged once per target; repeats go to debug. */
  #warnedTooManyPings = false;

  constructor(
    target: string,
    channel: Channel,
    observer: ConnectionObserver,
    log: Logger,
    keepaliveTimeMs: number,
  ) {
    this.#target = target;
    this.#channel = channel;
    this.#observer = observer;
    this.#log = log;
    this.#keepaliveTimeMs = keepaliveTimeMs;
  }

  /** The most recent disconnect, if any. */
  get lastDisconnect(): LastDisconnect | undefined {
    return this.#last;
  }

  get state(): ChannelState | undefined {
    return this.#state;
  }

  /** How many times the channel has become READY: a new value means a new connection, maybe a new server. */
  get connections(): number {
    return this.#connections;
  }

  start(): void {
    if (this.#state !== undefined) return;
    this.#onState(CHANNEL_STATES[this.#channel.getConnectivityState(false)] ?? 'IDLE');
  }

  /** Call before closing the channel: the disconnect that follows is ours (`shutdown`). */
  markClosing(): void {
    this.#closing = true;
  }

  #arm(current: ChannelState): void {
    if (current === 'SHUTDOWN') return;
    this.#channel.watchConnectivityState(State[current], Infinity, () => {
      this.#onState(CHANNEL_STATES[this.#channel.getConnectivityState(false)] ?? 'IDLE');
    });
  }

  #onState(next: ChannelState): void {
    const previous = this.#state;
    this.#state = next;
    // pick_first keeps the channel in TRANSIENT_FAILURE while it retries (sticky failure, gRFC A62),
    // so a reconnect after an outage goes TRANSIENT_FAILURE → READY without a CONNECTING in between.
    if ((previous === 'CONNECTING' || previous === 'TRANSIENT_FAILURE') && next === 'READY') {
      this.#observer.connectAttempt(this.#target, 'success');
    }
    if (previous === 'CONNECTING' && (next === 'TRANSIENT_FAILURE' || next === 'IDLE')) {
      this.#observer.connectAttempt(this.#target, 'failure');
    }
    if (previous === 'READY' && next !== 'READY') this.#onDisconnect();
    if (next === 'READY') this.#onReady();
    this.#observer.channelState(this.#target, next, previous);
    if (previous !== undefined) this.#log.debug({ from: previous, to: next }, 'channel state');
    this.#arm(next);
  }

  #onReady(): void {
    this.#connections += 1;
    this.#readyAt = performance.now();
    // grpc-js registers the new socket with channelz just after the state change that called us
    // (subchannel.ts: transitionToState(READY), then childrenTracker.refChild): look it up next tick.
    process.nextTick(() => this.#recordSockets());
  }

  #recordSockets(): void {
    if (this.#state !== 'READY') return;
    const sockets = channelSockets(this.#channel);
    this.#sockets = sockets.map((s) => s.id);
    for (const socket of sockets) {
      if (socket.peerCertificate) {
        this.#observer.tlsCertExpiry(this.#target, Date.parse(socket.peerCertificate.validTo) / 1000);
      }
    }
  }

  #onDisconnect(): void {
    let evidence: TransportEvidence | undefined;
    for (const id of this.#sockets) {
      const found = traceTap.take(id);
      if (found && (!evidence || found.kind !== 'closed')) evidence = found;
    }
    this.#sockets = [];
    const verdict: DisconnectVerdict = classifyDisconnect({ evidence, weClosed: this.#closing });
    this.#last = { reason: verdict.reason, at: performance.now() };
    const ageSeconds = (performance.now() - this.#readyAt) / 1000;
    this.#observer.disconnect(this.#target, verdict.reason, verdict.details, ageSeconds);
    if (verdict.reason === 'goaway_too_many_pings') {
      this.#warnTooManyPings();
      return;
    }
    this.#log[isGracefulDisconnect(verdict.reason) ? 'info' : 'warn'](
      { reason: verdict.reason, details: verdict.details },
      'connection lost',
    );
  }

  #warnTooManyPings(): void {
    const level = this.#warnedTooManyPings ? 'debug' : 'warn';
    this.#warnedTooManyPings = true;
    // gRFC A8: the server's keepalive enforcement (grpc-go/C-core: 5 min minimum by default) is
    // stricter than our ping interval; grpc-js doubles its own interval after each such GOAWAY.
    this.#log[level](
      { reason: 'goaway_too_many_pings', keepaliveTime: `${this.#keepaliveTimeMs}ms` },
      `keepalive mismatch: target ${this.#target} closed the connection with GOAWAY too_many_pings; ` +
        `our keepalive time ${this.#keepaliveTimeMs}ms is shorter than the server permits`,
    );
  }
}
