// Fan-out must not change what a /metrics series costs (issue 13, "Limits and cost"): 64 plain targets
// with 2 probes each, against one fan-out target with 64 backends × the same 2 probes, in-process, on
// the same 64 loopback servers, each setup in fresh processes (alternating). Prints the render time and
// bytes per series of both, and their ratio.
// Run: npm run bench:fanout

import { spawn } from 'node:child_process';
import { createServer, type Server as NetServer } from 'node:net';
import { Writable } from 'node:stream';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { App } from '../src/app.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { parseSamples } from '../test/harness/prom-text.js';
import { percentile, round, sleep } from './lib.js';

const BACKENDS = 64;
const RENDERS = Number(process.env.BENCH_RENDERS ?? 300);
const ROUNDS = 3;
/** Fresh processes per setup, alternating plain / fan-out. */
const PROCESSES = Number(process.env.BENCH_PROCESSES ?? 3);
const SERVICE = 'bench.v1.Orders';

/** One grpc-js server behind BACKENDS listeners, 127.0.2.1 … 127.0.2.64, all on one port. */
async function startBackends(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = new Server();
  new HealthImplementation({ '': 'SERVING', [SERVICE]: 'SERVING' }).addToServer(server);
  const injector = server.createConnectionInjector(ServerCredentials.createInsecure());
  for (let attempt = 0; attempt < 20; attempt++) {
    const listeners: NetServer[] = [];
    let port = 0;
    try {
      for (let i = 1; i <= BACKENDS; i++) {
        const listener = createServer((socket) => injector.injectConnection(socket));
        await new Promise<void>((resolve, reject) => {
          listener.once('error', reject);
          listener.listen(port, `127.0.2.${i}`, () => resolve());
        });
        listeners.push(listener);
        const address = listener.address();
        if (address && typeof address !== 'string') port = address.port;
      }
      return {
        port,
        close: async () => {
          server.forceShutdown();
          await Promise.all(listeners.map((l) => new Promise((resolve) => l.close(resolve))));
        },
      };
    } catch {
      await Promise.all(listeners.map((l) => new Promise((resolve) => l.close(resolve))));
    }
  }
  throw new Error('no port free on all backend addresses');
}

const PROBES = `    health: [ { service: "", mode: watch }, { service: ${SERVICE}, mode: check } ]\n`;

function config(targets: string): string {
  return `server: { listen: "127.0.0.1:0" }\nlog: { level: warn }\ndefaults: { timeout: 2s, interval: 1h }\ntargets:\n${targets}`;
}

function plainConfig(port: number): string {
  const targets = Array.from(
    { length: BACKENDS },
    (_, i) => `  - name: orders-${i + 1}\n    address: "ipv4:127.0.2.${i + 1}:${port}"\n${PROBES}`,
  );
  return config(targets.join(''));
}

function fanOutConfig(port: number): string {
  const list = Array.from({ length: BACKENDS }, (_, i) => `127.0.2.${i + 1}:${port}`).join(',');
  return config(
    `  - name: orders\n    address: "ipv4:${list}"\n    fan_out: { max_backends: ${BACKENDS} }\n${PROBES}`,
  );
}

interface Measured {
  series: number;
  bytes: number;
  renderMs: number;
}

/** An app on `yaml`, started, with every probe of every backend succeeded once (all series hold values). */
async function startApp(label: string, yaml: string): Promise<App> {
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  const app = new App(parseConfigText(yaml, `${label}.yaml`, { baseDir: process.cwd(), env: {} }), {
    logger: createLogger('warn', quiet),
    env: {},
  });
  await app.start();
  const deadline = performance.now() + 60_000;
  for (;;) {
    const samples = parseSamples(await app.metricsText());
    const ok = samples.filter((s) => s.name === 'grpc_probe_success' && s.value === 1).length;
    if (ok >= BACKENDS * 2) return app;
    if (performance.now() > deadline) throw new Error(`${label}: only ${ok} probes succeeded`);
    await sleep(100);
  }
}

/** The median time of a render of the per-target series (synchronous: no I/O lands inside it). */
async function renderP50(app: App): Promise<number> {
  (globalThis as { gc?: () => void }).gc?.();
  const times: number[] = [];
  for (let i = 0; i < RENDERS; i++) {
    const started = performance.now();
    app.targetSeriesText();
    times.push(performance.now() - started);
    // Let the probes' I/O run between renders, as between scrapes.
    if (i % 20 === 0) await sleep(1);
  }
  return percentile(times, 50);
}

/** One setup in this process (a child): start it, time its renders, print one JSON line. */
async function child(setup: 'plain' | 'fan-out', port: number): Promise<void> {
  const app = await startApp(setup, setup === 'plain' ? plainConfig(port) : fanOutConfig(port));
  let best = Number.POSITIVE_INFINITY;
  for (let r = 0; r < ROUNDS; r++) best = Math.min(best, await renderP50(app));
  const lines = app
    .targetSeriesText()
    .split('\n')
    .filter((l) => l.startsWith('grpc_probe_'));
  await app.close();
  const measured: Measured = {
    series: lines.length,
    bytes: lines.reduce((n, l) => n + l.length + 1, 0),
    renderMs: best,
  };
  process.stdout.write(`${JSON.stringify(measured)}\n`);
}

/** Runs a setup in a fresh process, so JIT and heap state of one never slows the other. */
function runChild(setup: string, port: number): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [...process.execArgv, process.argv[1] as string, setup, String(port)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    proc.stdout.on('data', (chunk) => {
      out += String(chunk);
    });
    proc.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as Measured);
      else reject(new Error(`${setup} exited ${code}: ${out.slice(-500)}`));
    });
  });
}

const [, , childSetup, childPort] = process.argv;
if (childSetup === 'plain' || childSetup === 'fan-out') {
  await child(childSetup, Number(childPort));
} else {
  const backends = await startBackends();
  try {
    // Alternate the setups, PROCESSES times each; keep each one's best.
    const best: Record<string, Measured> = {};
    for (let i = 0; i < PROCESSES * 2; i++) {
      const setup = i % 2 === 0 ? 'plain' : 'fan-out';
      const m = await runChild(setup, backends.port);
      process.stderr.write(`${setup}: ${round(m.renderMs, 3)} ms\n`);
      const previous = best[setup];
      if (!previous || m.renderMs < previous.renderMs) best[setup] = m;
    }
    const plain = best.plain as Measured;
    const fanned = best['fan-out'] as Measured;
    const row = (name: string, m: Measured) =>
      `| ${name} | ${m.series} | ${round(m.renderMs, 2)} ms | ${round((m.renderMs * 1e6) / m.series, 0)} ns | ${round(m.bytes / m.series, 1)} B |`;
    process.stdout.write(
      [
        `## /metrics cost per series: ${BACKENDS} targets × 2 probes vs 1 fan-out target × ${BACKENDS} backends × 2 probes`,
        '',
        `| setup | grpc_probe_* series | per-target render p50 (best of ${PROCESSES} processes × ${ROUNDS} rounds) | per series | bytes per series |`,
        '|---|---|---|---|---|',
        row(`${BACKENDS} plain targets`, plain),
        row(`fan-out, ${BACKENDS} backends`, fanned),
        '',
        `render per series, fan-out / plain: ${round(fanned.renderMs / fanned.series / (plain.renderMs / plain.series), 2)}`,
        `bytes per series, fan-out / plain: ${round(fanned.bytes / fanned.series / (plain.bytes / plain.series), 2)}`,
        `render per byte, fan-out / plain: ${round(fanned.renderMs / fanned.bytes / (plain.renderMs / plain.bytes), 2)}`,
        '',
      ].join('\n'),
    );
  } finally {
    await backends.close();
  }
}
