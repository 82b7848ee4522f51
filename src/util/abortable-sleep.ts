// A sleep that ends early when its signal aborts, and never holds the process open. Node's timers
// hold at most 2^31-1 ms (about 24.8 days) and fire after 1 ms for anything longer (a 30-day
// interval once meant hundreds of probes a second), so a longer sleep is taken in steps.

/** The longest delay a Node timer honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Resolves true after `ms`, or false at once when `signal` aborts (before or during the wait). */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const wait = (left: number) => {
      timer = setTimeout(
        () => {
          if (left > MAX_TIMER_MS) return wait(left - MAX_TIMER_MS);
          signal.removeEventListener('abort', onAbort);
          resolve(true);
        },
        Math.max(0, Math.min(left, MAX_TIMER_MS)),
      );
      timer.unref();
    };
    wait(Number.isFinite(ms) ? ms : MAX_TIMER_MS * 2);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
