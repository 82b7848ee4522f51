// Deep-freezes a validated value so no module can change config under another's feet (as fastify does
// with its initial config, lib/initial-config-validation.js).

export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value) && !ArrayBuffer.isView(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
