// One observer that forwards every call to several (recorders, status store), so producers of events
// keep a single observer and know nothing of who listens.

type Listener = Record<string, unknown>;

/** Builds an object with the methods of T that calls the same method on each of `observers`. */
export function fanOut<T extends object>(observers: T[], methods: readonly (keyof T & string)[]): T {
  const out: Listener = {};
  for (const method of methods) {
    out[method] = (...args: unknown[]) => {
      for (const observer of observers) {
        const fn = (observer as Listener)[method];
        if (typeof fn === 'function') fn.apply(observer, args);
      }
    };
  }
  return out as T;
}
