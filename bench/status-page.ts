// How long the status page takes to render, and how big it is, for 10 to 1,000 targets with a
// failing history: the cost the live feed pays per flush (it spaces flushes by ten render times).
// Run: npm run bench:status-page (prints a table; not part of npm test).

import { parseConfigText } from '../src/config/load.js';
import { planTarget } from '../src/probes/plan.js';
import { renderLive } from '../src/server/status-page/render.js';
import { defaultPageOptions } from '../src/server/status-page.js';
import { StatusStore } from '../src/status/status-store.js';

function fleet(n: number): StatusStore {
  const targets = Array.from(
    { length: n },
    (_, i) => `  - { name: t${i}, address: "127.0.0.1:${1000 + i}" }`,
  );
  const config = parseConfigText(`targets:\n${targets.join('\n')}\n`, 'bench.yaml', {
    baseDir: '.',
    env: {},
  });
  const store = new StatusStore();
  for (const [i, t] of config.targets.entries()) {
    store.addTarget(planTarget(t));
    // A flapping history on every tenth target, a steady one elsewhere.
    for (let k = 0; k < 30; k++) {
      const success = i % 10 === 0 ? k % 3 === 0 : true;
      store.result(t.name, 'health', {
        success,
        reason: 'connection_refused',
        details: 'connect ECONNREFUSED',
      });
    }
  }
  return store;
}

function main(): void {
  const options = defaultPageOptions('bench');
  console.log('| targets | render best of 10 (ms) | page size (KiB) |\n|---|---|---|');
  for (const n of [10, 100, 1000]) {
    const store = fleet(n);
    let best = Number.POSITIVE_INFINITY;
    let size = 0;
    for (let round = 0; round < 10; round++) {
      const started = performance.now();
      size = renderLive(store.view(), options).length;
      best = Math.min(best, performance.now() - started);
    }
    console.log(`| ${n} | ${best.toFixed(1)} | ${(size / 1024).toFixed(0)} |`);
  }
}

main();
