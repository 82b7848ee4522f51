// The one loop shape of every probe: run one attempt, wait, run the next; never two at once, each with
// the loop's abort signal. The attempt decides what one probe does (a call, or one stream's life) and
// may say how long to wait before the next (a stream re-opened with backoff); this decides only when
// (cloudprober's probes/common/sched).

import { sleep } from '../util/abortable-sleep.js';

export interface PeriodicOptions {
  intervalMs: number;
  /**
   * The first run waits a random share of min(interval, this), so that many targets started together
   * do not probe in lock-step, while a newcomer still sees data within a second. 0 starts at once.
   */
  maxInitialDelayMs?: number;
  random?: () => number;
}

/**
 * One attempt. It may resolve with the delay before the next attempt in ms; with nothing, the fixed
 * rhythm holds: `intervalMs` from the start of this attempt.
 */
export type Attempt = (signal: AbortSignal) => Promise<void> | Promise<number | undefined>;

export class PeriodicTask {
  readonly #run: Attempt;
  readonly #options: PeriodicOptions;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;

  constructor(run: Attempt, options: PeriodicOptions) {
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
    this.#abort ??= new AbortController();
    this.#abort.abort();
    await this.#loop;
  }

  async #runLoop(signal: AbortSignal): Promise<void> {
    const { intervalMs, maxInitialDelayMs = 1000, random = Math.random } = this.#options;
    let delay = Math.floor(random() * Math.min(intervalMs, maxInitialDelayMs));
    while (await sleep(delay, signal)) {
      const started = performance.now();
      const next = await this.#run(signal);
      // Fixed rate from the start of each attempt; an attempt can never overrun, its deadline is shorter.
      delay = typeof next === 'number' ? next : Math.max(0, intervalMs - (performance.now() - started));
    }
  }
}
