// Subset matching of an expected JSON value against a response: every key the expectation names must
// be there with an equal value; keys it does not name are ignored. Lists match element by element.

/** The first difference, as "response.items[0].status: expected "ACTIVE", got "CLOSED"", or undefined. */
export function findMismatch(expected: unknown, actual: unknown, path = 'response'): string | undefined {
  if (expected !== null && typeof expected === 'object') {
    if (Array.isArray(expected)) {
      if (!Array.isArray(actual)) return `${path}: expected a list, got ${show(actual)}`;
      if (actual.length < expected.length)
        return `${path}: expected at least ${expected.length} items, got ${actual.length}`;
      for (const [i, item] of expected.entries()) {
        const found = findMismatch(item, actual[i], `${path}[${i}]`);
        if (found) return found;
      }
      return undefined;
    }
    if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) {
      return `${path}: expected a map, got ${show(actual)}`;
    }
    for (const [key, value] of Object.entries(expected)) {
      const found = findMismatch(value, lookup(actual as Record<string, unknown>, key), `${path}.${key}`);
      if (found) return found;
    }
    return undefined;
  }
  // 64-bit integers arrive as strings; a config may write them as numbers.
  const same =
    expected === actual ||
    (typeof expected === 'number' && typeof actual === 'string' && String(expected) === actual);
  return same ? undefined : `${path}: expected ${show(expected)}, got ${show(actual)}`;
}

/** A key as written in the .proto (snake_case) or in proto3 JSON (lowerCamelCase). */
function lookup(object: Record<string, unknown>, key: string): unknown {
  if (key in object) return object[key];
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return object[snake];
}

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}
