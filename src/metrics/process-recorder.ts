// Metrics about grpc-pulse itself: build info, config reloads, and prom-client's process_* / nodejs_*.

import { collectDefaultMetrics, Gauge, type Registry } from 'prom-client';
import { METRICS } from './names.js';

export class ProcessRecorder {
  readonly #reloadOk: Gauge;
  readonly #reloadTime: Gauge;

  constructor(registry: Registry, version: string) {
    const registers = [registry];
    collectDefaultMetrics({ register: registry });
    new Gauge({
      name: METRICS.buildInfo,
      help: 'Always 1; labels carry the grpc-pulse and Node.js versions.',
      labelNames: ['version', 'nodejs_version'],
      registers,
    }).set({ version, nodejs_version: process.version }, 1);
    this.#reloadOk = new Gauge({
      name: METRICS.configReloadSuccessful,
      help: 'Whether the last config load or reload succeeded (1) or was rejected (0).',
      registers,
    });
    this.#reloadTime = new Gauge({
      name: METRICS.configReloadSuccessTimestamp,
      help: 'Unix time of the last successful config load or reload.',
      registers,
    });
  }

  configLoaded(ok: boolean): void {
    this.#reloadOk.set(ok ? 1 : 0);
    if (ok) this.#reloadTime.set(Date.now() / 1000);
  }
}
