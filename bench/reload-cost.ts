// The cost of a large config: start with 5,000 targets, reload to 1, reload back to 5,000, each
// timed, with the longest event-loop stall during each step (what /metrics and every probe would
// wait for). Every target checks one health server in a child process once an hour, so what is
// measured is the reconcile, not probing. Standalone, not part of `npm test` or `npm run bench`:
//   npx tsc -p tsconfig.bench.json && node .bench-dist/bench/reload-cost.js [targets]

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { App } from '../src/app.js';
import { loadConfigFile } from '../src/config/load.js';
import { createLogger } from '../src/log.js';

const TARGETS = Number(process.argv[2] ?? 5000);

function configText(count: number, address: string): string {
  const targets = Array.from(
    { length: count },
    (_, i) => `  - { name: t${i}, address: "${address}", health: [{ service: "", mode: check }] }\n`,
  ).join('');
  return (
    `server: { listen: "127.0.0.1:0" }\nlog: { level: warn }\nlimits: { max_targets: ${Math.max(count, 1)} }\n` +
    `defaults: { timeout: 1s, interval: 1h }\ntargets:\n${targets}`
  );
}

/** Runs `step`, returning its wall time and the longest event-loop stall seen meanwhile (ms). */
async function measure(step: () => Promise<unknown>): Promise<{ ms: number; maxStallMs: number }> {
  // A 1 ms timer chain: the longest gap between two of its ticks is the longest stall.
  let last = performance.now();
  let maxStallMs = 0;
  let ticking = true;
  const tick = () => {
    const now = performance.now();
    maxStallMs = Math.max(maxStallMs, now - last);
    last = now;
    if (ticking) setTimeout(tick, 1);
  };
  setTimeout(tick, 1);
  const started = performance.now();
  await step();
  const ms = performance.now() - started;
  await new Promise((r) => setTimeout(r, 5)); // one more tick, so a stall at the very end counts
  ticking = false;
  return { ms, maxStallMs };
}

const round = (n: number) => Math.round(n);

/** The fixture health server in its own process (its accepts and answers cost this loop nothing). */
async function healthServer(): Promise<{ address: string; stop: () => void }> {
  const child = spawn(process.execPath, ['test/fixtures/node/health-server.mjs'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += String(chunk);
      const match = /PORT (\d+)/.exec(out);
      if (match?.[1]) resolve(match[1]);
    });
    child.on('exit', () => reject(new Error('health server exited')));
  });
  return { address: `127.0.0.1:${port}`, stop: () => child.kill('SIGKILL') };
}

async function main(): Promise<void> {
  const server = await healthServer();
  const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-reload-cost-'));
  const file = join(dir, 'config.yaml');
  writeFileSync(file, configText(TARGETS, server.address));
  const logger = createLogger('warn', new Writable({ write: (_c, _e, done) => done() }));
  const app = new App(loadConfigFile(file), { logger, configFile: file });
  const rows: string[] = [];
  const row = (step: string, m: { ms: number; maxStallMs: number }, series: number) => {
    rows.push(`| ${step} | ${round(m.ms)} | ${round(m.maxStallMs)} | ${series} |`);
    process.stdout.write(
      `${step}: ${round(m.ms)} ms, longest stall ${round(m.maxStallMs)} ms, ${series} series\n`,
    );
  };
  // Let the first checks (spread over the first second) finish before anything is timed.
  const settle = () => new Promise((r) => setTimeout(r, 3000));
  const seriesCount = async () =>
    (await app.metricsText()).split('\n').filter((l) => l.startsWith('grpc_probe_')).length;

  row(`start with ${TARGETS} targets`, await measure(() => app.start()), await seriesCount());
  await settle();
  const render = await measure(() => app.metricsText());
  row('render /metrics', render, await seriesCount());
  for (const [step, count] of [
    [`reload ${TARGETS} → 1`, 1],
    [`reload 1 → ${TARGETS}`, TARGETS],
  ] as const) {
    writeFileSync(file, configText(count, server.address));
    const m = await measure(async () => {
      const result = await app.reload();
      if (!result.ok) throw new Error(result.error);
    });
    row(step, m, await seriesCount());
    await settle();
  }
  await app.close();
  server.stop();
  process.stdout.write(
    `\n| step | wall ms | longest event-loop stall ms | grpc_probe_* lines after |\n|---|---|---|---|\n${rows.join('\n')}\n`,
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
