// Run as a child by the benches: imports the given modules one after another and prints, as one JSON
// line, how much private memory (RssAnon) and RSS each one added, after a GC. What one target's memory
// above the floor is made of, measured instead of guessed.

import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const gc = (globalThis as { gc?: () => void }).gc;
function memory(): { rss: number; anon: number } {
  gc?.();
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) / 1024;
  return { rss: kb('VmRSS'), anon: kb('RssAnon') };
}

const rows: { module: string; rss: number; anon: number }[] = [];
let before = memory();
rows.push({ module: '(node itself)', ...before });
for (const spec of process.argv.slice(2)) {
  await import(spec.startsWith('.') ? pathToFileURL(spec).href : spec);
  const after = memory();
  rows.push({ module: spec, rss: after.rss - before.rss, anon: after.anon - before.anon });
  before = after;
}
process.stdout.write(`${JSON.stringify(rows)}\n`);
