// Exponential backoff with jitter: the one retry timing of grpc-pulse (Watch re-opens, reconnects).
// Same shape as gRPC's connection backoff (doc/connection-backoff.md): grow by a multiplier, cap, jitter.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  multiplier?: number;
  /** Fraction of the delay that is randomised either way, 0..1. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  readonly #options: Required<BackoffOptions>;
  /** The un-jittered delay the next call to next() starts from. */
  #current: number;

  constructor(options: BackoffOptions) {
    this.#options = { multiplier: 1.6, jitter: 0.2, random: Math.random, ...options };
    this.#current = options.initialMs;
  }

  /** The delay before the next retry; each call grows the following one up to maxMs. */
  next(): number {
    const { maxMs, multiplier, jitter, random } = this.#options;
    const base = this.#current;
    this.#current = Math.min(maxMs, base * multiplier);
    const spread = base * jitter * (random() * 2 - 1);
    return Math.max(0, Math.round(base + spread));
  }

  /** Call after a success, so the next failure retries quickly again. */
  reset(): void {
    this.#current = this.#options.initialMs;
  }
}
