// One object that forwards every call to several (recorders, status store), so producers of events
// keep a single listener and know nothing of who listens.

/** The names of T's methods. */
export type MethodNames<T> = {
  [K in keyof T]-?: T[K] extends (...args: never[]) => unknown ? K : never;
}[keyof T] &
  string;

/**
 * Every method of T, named once: a Record, so a method missing here is a compile error (not a throw
 * inside a gRPC callback), and so is a name that is not a method.
 */
export type MethodTable<T> = { readonly [K in MethodNames<T>]: true };

/**
 * Builds a T whose every method calls the same method on each member that has it, in order. Members
 * implement the parts of T they care about (a recorder of probes ignores connection events).
 */
export function fanOut<T extends object>(members: readonly Partial<T>[], methods: MethodTable<T>): T {
  const out: Record<string, (...args: unknown[]) => void> = {};
  for (const method of Object.keys(methods)) {
    const targets = members.flatMap((member) => {
      const fn = (member as Record<string, unknown>)[method];
      return typeof fn === 'function' ? [(args: unknown[]) => fn.apply(member, args)] : [];
    });
    out[method] = (...args: unknown[]) => {
      for (const call of targets) call(args);
    };
  }
  return out as T;
}
