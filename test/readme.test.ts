// The README's tables cannot drift from the code: every key of the config schema is a row of the
// config-key table (one unbroken table), every metric family /metrics serves or names.ts declares is
// a row of the metrics table, and every route the server registers is a row of the endpoints table.

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../src/config/schema.js';
import { METRICS } from '../src/metrics/names.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { RunningApp, testConfig } from './harness/running-app.js';

const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** The first column of the table whose header row starts with `| <first>`, which must be unbroken. */
function tableKeys(first: string): string[] {
  const lines = README.split('\n');
  const starts = lines.flatMap((l, i) => (new RegExp(`^\\|\\s*${first}\\s*\\|`).test(l) ? [i] : []));
  expect(starts, `exactly one README table starting with "| ${first} |"`).toHaveLength(1);
  const rows: string[] = [];
  let i = (starts[0] ?? 0) + 2;
  for (; i < lines.length && lines[i]?.startsWith('|'); i++) rows.push(lines[i] ?? '');
  // A row after a blank line renders as a paragraph of pipes, not as part of the table.
  let next = i;
  while (next < lines.length && lines[next]?.trim() === '') next++;
  expect(
    lines[next]?.startsWith('|') ?? false,
    `the "${first}" table is split by a blank line at line ${i + 1}`,
  ).toBe(false);
  return rows.flatMap((row) => [...(row.split('|')[1] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? ''));
}

interface ZodLike {
  _zod: { def: Record<string, unknown> & { type: string } };
}

/** Every key path of a zod schema: `targets[].rpcs[].expect.code`. Records and scalars are leaves. */
function keyPaths(schema: ZodLike, path = ''): string[] {
  const def = schema._zod.def;
  switch (def.type) {
    case 'pipe':
      return keyPaths(def.in as ZodLike, path);
    case 'default':
    case 'prefault':
    case 'optional':
    case 'nullable':
    case 'readonly':
      return keyPaths(def.innerType as ZodLike, path);
    case 'array':
      return keyPaths(def.element as ZodLike, `${path}[]`);
    case 'object':
      return Object.entries(def.shape as Record<string, ZodLike>).flatMap(([key, value]) => {
        const child = path === '' ? key : `${path}.${key}`;
        return [child, ...keyPaths(value, child)];
      });
    default:
      return [];
  }
}

describe('README', () => {
  it('has every config key in one unbroken table', () => {
    const schema = configSchema({ baseDir: process.cwd(), env: {} }) as unknown as ZodLike;
    const paths = keyPaths(schema);
    expect(paths).toContain('targets[].rpcs[].expect.max_latency');
    expect(paths).toContain('alerts.for.pulse_down');
    const documented = new Set(tableKeys('key'));
    // A section key (`server`, `targets[].tls`) is documented by its children's rows.
    const missing = paths.filter(
      (p) => !documented.has(p) && !paths.some((q) => q.startsWith(`${p}.`) || q.startsWith(`${p}[].`)),
    );
    expect(missing, 'config keys missing from the README table').toEqual([]);
    const unknown = [...documented].filter((d) => !paths.includes(d));
    expect(unknown, 'README rows naming no config key').toEqual([]);
  });

  describe('metrics and endpoints', () => {
    let app: RunningApp;
    let target: GrpcTarget;
    beforeAll(async () => {
      target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
      app = new RunningApp(testConfig(`  - { name: api, address: "${target.address}" }\n`));
      await app.start();
    });
    afterAll(async () => {
      await app.close();
      await target.stop();
    });

    it('has every metric family in the metrics table', async () => {
      const served = [...(await app.metricsText()).matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1] ?? '');
      const families = [...new Set([...served, ...Object.values(METRICS)])];
      expect(families).toContain('grpc_probe_channel_state');
      const documented = tableKeys('metric');
      const covered = (name: string) =>
        documented.some((d) => d === name || (d.endsWith('*') && name.startsWith(d.slice(0, -1))));
      expect(
        families.filter((f) => !covered(f)),
        'metric families missing from the README',
      ).toEqual([]);
      const stale = documented.filter((d) => !d.endsWith('*') && !families.includes(d));
      expect(stale, 'README metrics that grpc-pulse does not export').toEqual([]);
    });

    it('has every endpoint in the endpoints table', () => {
      // printRoutes draws a tree whose node labels are raw path pieces: a route's path is its
      // ancestors' pieces joined.
      const stack: string[] = [];
      const routes = app.app.server
        .printRoutes({ commonPrefix: false })
        .split('\n')
        .flatMap((line) => {
          const m = /^([\s│]*)[└├]── (\S+)(?: \(([^)]+)\))?$/.exec(line);
          if (!m) return [];
          const depth = (m[1] ?? '').length / 4;
          stack.length = depth;
          stack.push(m[2] ?? '');
          const path = stack.join('');
          return (m[3] ?? '')
            .split(', ')
            .filter((method) => method !== '' && method !== 'HEAD')
            .map((method) => `${method} ${path}`);
        });
      expect(routes).toContain('GET /metrics');
      const documented = tableKeys('endpoint').map((e) => e.replace(/\?.*$/, ''));
      expect(
        routes.filter((r) => !documented.includes(r)),
        'endpoints missing from the README',
      ).toEqual([]);
      expect(
        documented.filter((d) => !routes.includes(d)),
        'README endpoints not served',
      ).toEqual([]);
    });
  });
});
