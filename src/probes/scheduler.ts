// Runs one attempt function periodically: never two at once, each with the loop's abort signal. The
// attempt decides what one probe does; this decides only when (cloudprober's probes/common/sched).

import { sleep } from '../util/abortable-sleep.js';

export interface PeriodicOptions {
  intervalMs: number;
  /**
   * The first run waits a random share of min(interval, this), so that many targets started together
   * do not probe in lock-step, while a newcomer still sees data within a second.
   */
  maxInitialDelayMs?: number;
  random?: () => number;
}

export class PeriodicTask {
  readonly #run: (signal: AbortSignal) => Promise<void>;
  readonly #options: PeriodicOptions;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(run: (signal: AbortSignal) => Promise<void>, options: PeriodicOptions) {
    this.#run = run;
    this.#options = options;
  }

  /** Starts the loop; a second call does nothing. */
  start(): void {
    if (this.#abort) return;
    const abort = new AbortController();
    this.#abort = abort;
    this.#loop = this.#runLoop(abort.signal);
  }

  /** Stops the loop, aborts a running attempt and waits for it to return. Idempotent. */
  async close(): Promise<void> {
    this.#abort?.abort();
    await this.#loop;
  }

  async #runLoop(signal: AbortSignal): Promise<void> {
    const { intervalMs, maxInitialDelayMs = 1000, random = Math.random } = this.#options;
    let delay = Math.floor(random() * Math.min(intervalMs, maxInitialDelayMs));
    while (await sleep(delay, signal)) {
      const started = performance.now();
      await this.#run(signal);
      // Fixed rate from the start of each attempt; an attempt can never overrun, its deadline is shorter.
      delay = Math.max(0, intervalMs - (performance.now() - started));
    }
  }
}
