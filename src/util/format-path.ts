// Paths inside config values, in the form users read in error messages.

/** `['targets', 2, 'rpcs', 0, 'method']` → `targets[2].rpcs[0].method`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out === '' ? String(key) : `.${String(key)}`;
  }
  return out;
}
