// A small import-graph walker: every relative import (static, `export ... from`, dynamic, type-only)
// of the .ts files under a folder, and the circles in that graph. Type-only imports count: a circle
// through types is still two modules that cannot be understood apart.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/** `from '...'`, `import '...'` and `import('...')` with a relative specifier. */
const IMPORT_RE = /(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return tsFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Each file (relative to `root`) with the files under `root` it imports. */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(root)) {
    const text = readFileSync(file, 'utf8');
    const deps = new Set<string>();
    for (const match of text.matchAll(IMPORT_RE)) {
      const target = resolve(dirname(file), (match[1] ?? '').replace(/\.js$/, '.ts'));
      const rel = relative(root, target);
      if (!rel.startsWith('..')) deps.add(rel);
    }
    graph.set(relative(root, file), [...deps].sort());
  }
  return graph;
}

/** Every elementary circle found by a depth-first search, each as the files in order, first repeated. */
export function findCycles(graph: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (node: string) => {
    seen.add(node);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const at = stack.indexOf(next);
      if (at >= 0) cycles.push([...stack.slice(at), next]);
      else if (!seen.has(next) && !done.has(next)) visit(next);
    }
    stack.pop();
    done.add(node);
  };
  for (const node of [...graph.keys()].sort()) if (!done.has(node)) visit(node);
  return cycles;
}
