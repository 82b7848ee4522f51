// The one loop shape of every probe: run one attempt, wait, run the next; never two at once, each with
// the loop's abort signal. The attempt decides what one probe does (a call, or one stream's life) and
// may say how long to wait before the next (a stream re-opened with backoff); this decides only when
// (cloudprober's probes/common/sched).

import { sleep } from '../util/abortable-sleep.js';

export interface PeriodicOptions {
  intervalMs: number;
  /**
   * The first run waits a random share of min(interval, this); by default the whole interval, so a
   * thousand targets started together spread their probes evenly instead of firing in the same second
   * of every interval (bench/RESULTS.md "Probe spread"). 0 starts at once (a Watch stream).
   */
  maxInitialDelayMs?: number;
  random?: () => number;
}

/**
 * One attempt. It may resolve with the delay before the next attempt in ms; with nothing, the fixed
 * rhythm holds: one attempt per `intervalMs`.
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
    const { intervalMs, maxInitialDelayMs = intervalMs, random = Math.random } = this.#options;
    let next = performance.now() + Math.floor(random() * Math.min(intervalMs, maxInitialDelayMs));
    while (await sleep(Math.max(0, next - performance.now()), signal)) {
      const delay = await this.#run(signal);
      if (typeof delay === 'number') {
        // The attempt chose when the next one starts (a stream re-opened after a backoff).
        next = performance.now() + delay;
        continue;
      }
      // Fixed rate: runs at first + k × interval, so timer lateness never accumulates into drift (an
      // attempt cannot overrun, its deadline is shorter). Slots missed while the process was frozen are
      // skipped, not caught up in a burst.
      next += intervalMs;
      const now = performance.now();
      if (next < now) next += Math.ceil((now - next) / intervalMs) * intervalMs;
    }
  }
}
