// The shape of the code, checked: no import circles under src/, data flowing one way (probes and the
// outcome words never reach for metrics or the server), and a sink fan-out that cannot forget a method.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TargetSink } from '../src/targets/sink.js';
import { TARGET_SINK_METHODS } from '../src/targets/sink.js';
import { fanOut } from '../src/util/fan-out.js';
import { findCycles, importGraph } from './harness/import-graph.js';
import { tempDir, writeFile } from './harness/services.js';

describe('import graph', () => {
  it('src/ has no import circles (type-only imports included)', () => {
    const graph = importGraph('src');
    expect(graph.size).toBeGreaterThan(40);
    expect(graph.get('app.ts')).toContain('targets/target-set.ts');
    expect(findCycles(graph)).toEqual([]);
  });

  it('finds a circle through a type-only import, a re-export and a dynamic import', () => {
    const dir = tempDir('import-graph-');
    writeFile(dir, 'a.ts', "import type { B } from './b.js';\nexport type A = B;\n");
    writeFile(dir, 'b.ts', "export { c } from './c.js';\nexport type B = string;\n");
    writeFile(dir, 'c.ts', "export const c = () => import('./a.js');\n");
    writeFile(dir, 'd.ts', "import { c } from './c.js';\nvoid c;\n");
    expect(findCycles(importGraph(dir))).toEqual([['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
  });

  it('data flows one way: probes, connection and outcome import no recorder, server or status code', () => {
    const graph = importGraph('src');
    const downstream = /^(metrics|server|status|alerts|check)\/|^app\.ts$|^cli\.ts$/;
    const offenders: string[] = [];
    for (const [file, deps] of graph) {
      if (!/^(probes|connection|outcome)\//.test(file)) continue;
      for (const dep of deps) if (downstream.test(dep)) offenders.push(`${file} -> ${dep}`);
      const text = readFileSync(join('src', file), 'utf8');
      if (/from '(fastify|prom-client)'/.test(text)) offenders.push(`${file} -> fastify/prom-client`);
    }
    for (const [file, deps] of graph) {
      if (!file.startsWith('outcome/')) continue;
      for (const dep of deps) if (!dep.startsWith('outcome/')) offenders.push(`${file} -> ${dep}`);
    }
    expect(offenders).toEqual([]);
  });
});

describe('sink fan-out', () => {
  it('calls each member that has the method, in order, and skips those that do not', () => {
    const calls: string[] = [];
    const probes: Partial<TargetSink> = {
      attempt: (target, probe) => calls.push(`probes.attempt ${target} ${probe}`),
      removeTarget: (name) => calls.push(`probes.removeTarget ${name}`),
    };
    const connections: Partial<TargetSink> = {
      disconnect: (target, reason) => calls.push(`connections.disconnect ${target} ${reason}`),
      removeTarget: (name) => calls.push(`connections.removeTarget ${name}`),
    };
    const sink = fanOut<TargetSink>([probes, connections], TARGET_SINK_METHODS);
    sink.attempt('api', 'health');
    sink.disconnect('api', 'idle', 'GOAWAY');
    sink.removeTarget('api');
    sink.tlsCertExpiry('api', 1);
    expect(calls).toEqual([
      'probes.attempt api health',
      'connections.disconnect api idle',
      'probes.removeTarget api',
      'connections.removeTarget api',
    ]);
    expect(Object.keys(sink).sort()).toEqual(Object.keys(TARGET_SINK_METHODS).sort());
  });

  it('a method table that forgets a method, or names one that is not, does not compile', () => {
    interface Two {
      one(): void;
      two(x: number): void;
      notAMethod: string;
    }
    // @ts-expect-error `two` is missing: npm run typecheck fails if this ever compiles.
    const forgot: Parameters<typeof fanOut<Two>>[1] = { one: true };
    // @ts-expect-error `notAMethod` is not a method.
    const extra: Parameters<typeof fanOut<Two>>[1] = { one: true, two: true, notAMethod: true };
    const complete: Parameters<typeof fanOut<Two>>[1] = { one: true, two: true };
    expect([forgot, extra, complete].map((t) => Object.keys(t).length)).toEqual([1, 3, 2]);
  });
});

describe('README architecture section', () => {
  it('has a row for every folder under src/, and names no folder that does not exist', () => {
    const readme = readFileSync('README.md', 'utf8');
    const section = readme.slice(readme.indexOf('## Architecture'), readme.indexOf('## Development'));
    const named = new Set([...section.matchAll(/`(src\/[a-z-]+)\/`/g)].map((m) => m[1]));
    const folders = new Set(
      [...importGraph('src').keys()].filter((f) => f.includes('/')).map((f) => `src/${f.split('/')[0]}`),
    );
    expect([...folders].filter((f) => !named.has(f))).toEqual([]);
    expect([...named].filter((f) => !folders.has(f as string))).toEqual([]);
  });
});
