// Recovery time after an outage: a real grpc-js server is stopped for 3, 10 and 30 s and restarted on
// the same port; measured from "the server accepts again" to SERVING in /metrics of an in-process
// daemon watching it (Watch mode). The goal (issue 11): within 1.5 s plus the reconnect backoff in
// force at that moment, one backoff, not two stacked. Standalone:
//   rm -rf .bench-dist && tsc -p tsconfig.bench.json && cp package.json .bench-dist/ && \
//   cp -r protos .bench-dist/protos && node .bench-dist/bench/recovery.js [outage seconds...]
// Prints a markdown table and writes it to bench/RECOVERY.md (next to the sources).

// First: grpc-js reads its tracer list when it loads.
import '../src/connection/trace-env.js';
import { writeFileSync } from 'node:fs';
import { App } from '../src/app.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { GrpcTarget } from '../test/harness/grpc-target.js';
import { sampleValue } from '../test/harness/prom-text.js';
import { round, sleep } from './lib.js';

/** grpc-js's reconnect backoff as configured by channel.ts: 1 s initial, ×1.6, ±20 % jitter, cap. */
const INITIAL_MS = 1000;
const MULTIPLIER = 1.6;
const CAP_MS = 30_000;

/** The un-jittered backoff step in force `outageMs` after the connection was lost. */
function backoffInForce(outageMs: number): number {
  let elapsed = 0;
  let step = INITIAL_MS;
  while (elapsed + step < outageMs) {
    elapsed += step;
    step = Math.min(CAP_MS, step * MULTIPLIER);
  }
  return step;
}

async function serving(app: App): Promise<number | undefined> {
  const response = await app.server.inject({ method: 'GET', url: '/metrics' });
  return sampleValue(response.body, 'grpc_probe_health_status', {
    target: 'api',
    health_service: '',
    status: 'SERVING',
  });
}

async function waitServing(app: App, want: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    if ((await serving(app)) === want) return performance.now() - started;
    await sleep(20);
  }
  throw new Error(`health status SERVING did not become ${want} within ${timeoutMs} ms`);
}

async function main(): Promise<void> {
  const outages = process.argv
    .slice(2)
    .map(Number)
    .filter((n) => n > 0);
  const outagesS = outages.length > 0 ? outages : [3, 10, 30];
  const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  const yaml = `server: { listen: "127.0.0.1:0" }\ntargets:\n  - name: api\n    address: "${target.address}"\n    timeout: 1s\n    interval: 5s\n`;
  const app = new App(parseConfigText(yaml, 'recovery.yaml', { baseDir: process.cwd(), env: {} }), {
    logger: createLogger('silent'),
    env: {},
  });
  await app.start();
  const rows: string[] = [];
  try {
    await waitServing(app, 1, 10_000);
    for (const outageS of outagesS) {
      await target.stop();
      await waitServing(app, 0, 10_000);
      await sleep(outageS * 1000);
      await target.start();
      const recoveryMs = await waitServing(app, 1, 120_000);
      const backoffMs = backoffInForce(outageS * 1000);
      const goalMs = 1500 + backoffMs * 1.2; // the jitter may stretch a step by 20 %
      rows.push(
        `| ${outageS} s | ${round(recoveryMs / 1000)} s | ${round(backoffMs / 1000)} s | ${round(goalMs / 1000)} s | ${recoveryMs <= goalMs ? 'yes' : 'no'} |`,
      );
      process.stdout.write(`${rows.at(-1)}\n`);
      // Let the next outage start from a settled connection.
      await sleep(2000);
    }
  } finally {
    await app.close();
    await target.stop();
  }
  const table = [
    '# Recovery after an outage (bench/recovery.ts)',
    '',
    'From "the server accepts again" to `grpc_probe_health_status{status="SERVING"} 1` in /metrics,',
    'one Watch target, default `max_reconnect_backoff` (30 s). Goal: 1.5 s + the reconnect backoff step',
    'in force (+20 % jitter).',
    '',
    '| outage | recovery | backoff step in force | goal | within goal |',
    '|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
  process.stdout.write(`\n${table}`);
  writeFileSync(new URL('../../bench/RECOVERY.md', import.meta.url), table);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`recovery bench failed: ${String(err)}\n`);
    process.exit(1);
  },
);
