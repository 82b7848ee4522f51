// Soak: one target restarting as fast as it can, one flapping every second, for a bounded time, with
// grpc-pulse in this process (RSS after GC and active handles sampled every 5 s).

import { App } from '../src/app.js';
import { parseConfigText } from '../src/config/load.js';
import { createLogger } from '../src/log.js';
import { GrpcTarget } from '../test/harness/grpc-target.js';
import { sampleValue } from '../test/harness/prom-text.js';
import { round, sleep } from './lib.js';
import type { Report } from './report.js';

export interface SoakFigures {
  rssGrowthMiB: number;
  handleGrowth: number;
}

export async function soak(report: Report, quick: boolean): Promise<SoakFigures> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const restarter = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  const flapper = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  const config = parseConfigText(
    `server: { listen: "127.0.0.1:0" }\nlog: { level: silent }\ndefaults: { timeout: 1s, interval: 2s }\ntargets:\n` +
      `  - name: restarter\n    address: "${restarter.address}"\n  - name: flapper\n    address: "${flapper.address}"\n`,
    'soak.yaml',
    { baseDir: '.', env: {} },
  );
  const app = new App(config, { logger: createLogger('silent') });
  await app.start();
  const seconds = quick ? 10 : 60;
  const samples: { t: number; rss: number; handles: number }[] = [];
  let restarts = 0;
  let stop = false;
  const restartLoop = (async () => {
    while (!stop) {
      await restarter.restart();
      restarts++;
      await sleep(5);
    }
  })();
  const flap = setInterval(() => {
    flapper.setStatus('', Math.random() < 0.5 ? 'NOT_SERVING' : 'SERVING');
  }, 1000);
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    await sleep(5000);
    gc?.();
    samples.push({
      t: Math.round((performance.now() - t0) / 1000),
      rss: process.memoryUsage().rss,
      handles: process.getActiveResourcesInfo().length,
    });
  }
  stop = true;
  clearInterval(flap);
  await restartLoop;
  const metrics = await app.metricsText();
  await app.close();
  await restarter.stop();
  await flapper.stop();
  const first = samples[0];
  const last = samples.at(-1);
  const changes = sampleValue(metrics, 'grpc_probe_health_changes_total', {
    target: 'flapper',
    health_service: '',
    status: 'NOT_SERVING',
  });
  report.section(`Soak (${seconds} s: a target restarted ${restarts} times, one flipping every second)`, [
    '| t (s) | RSS (MiB, after GC) | active handles |',
    '|---|---|---|',
    ...samples.map((s) => `| ${s.t} | ${round(s.rss / 2 ** 20, 1)} | ${s.handles} |`),
    '',
    `RSS ${round((first?.rss ?? 0) / 2 ** 20, 1)} → ${round((last?.rss ?? 0) / 2 ** 20, 1)} MiB; active handles ${first?.handles} → ${last?.handles}; ` +
      `flapper NOT_SERVING transitions counted: ${changes}. The whole bench process is measured (servers included).`,
  ]);
  return {
    rssGrowthMiB: ((last?.rss ?? 0) - (first?.rss ?? 0)) / 2 ** 20,
    handleGrowth: (last?.handles ?? 0) - (first?.handles ?? 0),
  };
}
