// Runs one attempt function periodically: never two at once, each with the loop's abort signal. The
// attempt decides what one probe does; this decides only when (cloudprober's probes/common/sched).

import { sleep } from '../util/abortable-sleep.js';

export interface PeriodicOptions {
  intervalMs: number;
  /**
   * Picks the first run's point in the first interval (default Math.random): uniform over the whole
   * interval, so a thousand targets started together spread their probes evenly instead of firing in
   * the same second of every interval (bench/RESULTS.md "Probe spread").
   */
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
    const { intervalMs, random = Math.random } = this.#options;
    let next = performance.now() + Math.floor(random() * intervalMs);
    while (await sleep(Math.max(0, next - performance.now()), signal)) {
      await this.#run(signal);
      // Fixed rate: runs at first + k × interval, so timer lateness never accumulates into drift (an
      // attempt cannot overrun, its deadline is shorter). Slots missed while the process was frozen are
      // skipped, not caught up in a burst.
      next += intervalMs;
      const now = performance.now();
      if (next < now) next += Math.ceil((now - next) / intervalMs) * intervalMs;
    }
  }
}
