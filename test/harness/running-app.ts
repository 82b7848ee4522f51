// Starts the real App (real channels, real fastify) from YAML text, with logs captured in memory so a
// test can read them, and reads /metrics the way Prometheus would.

import { Writable } from 'node:stream';
import { App, type AppOptions } from '../../src/app.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load.js';
import type { DemoOptions } from '../../src/demo/demo-server.js';
import { createLogger } from '../../src/log.js';
import { parseSamples, sampleValue } from './prom-text.js';
import { waitFor } from './wait-for.js';

export class RunningApp {
  readonly app: App;
  readonly logs: string[] = [];

  constructor(
    yamlText: string,
    options: {
      demo?: DemoOptions;
      env?: NodeJS.ProcessEnv;
      configFile?: string | undefined;
      web?: AppOptions['web'];
      enableLifecycle?: boolean;
    } = {},
  ) {
    const config = options.configFile
      ? loadConfigFile(options.configFile, { env: options.env ?? {} })
      : parseConfigText(yamlText, 'test.yaml', { baseDir: process.cwd(), env: options.env ?? {} });
    const sink = new Writable({
      write: (chunk, _encoding, done) => {
        this.logs.push(...String(chunk).split('\n').filter(Boolean));
        done();
      },
    });
    this.app = new App(config, {
      logger: createLogger('debug', sink),
      ...(options.demo ? { demo: options.demo } : {}),
      ...(options.configFile ? { configFile: options.configFile } : {}),
      ...(options.web ? { web: options.web } : {}),
      ...(options.enableLifecycle ? { enableLifecycle: true } : {}),
      env: options.env ?? {},
    });
  }

  /** The HTTP server's URL, once started. */
  url = '';

  async start(): Promise<this> {
    this.url = await this.app.start();
    return this;
  }

  async metricsText(): Promise<string> {
    const response = await this.app.server.inject({ method: 'GET', url: '/metrics' });
    if (response.statusCode !== 200) throw new Error(`/metrics answered ${response.statusCode}`);
    return response.body;
  }

  async metric(name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
    return sampleValue(await this.metricsText(), name, labels);
  }

  /** Waits until the metric has the value; the error names the metric and what it last was. */
  waitForMetric(
    name: string,
    labels: Record<string, string>,
    value: number,
    timeoutMs = 5000,
  ): Promise<unknown> {
    return this.#waitUntil(name, labels, (v) => v === value, `== ${value}`, timeoutMs);
  }

  /** Waits until the metric reaches at least `min` (counters that a fault may bump more than once). */
  waitForMetricAtLeast(
    name: string,
    labels: Record<string, string>,
    min: number,
    timeoutMs = 5000,
  ): Promise<unknown> {
    return this.#waitUntil(name, labels, (v) => v !== undefined && v >= min, `>= ${min}`, timeoutMs);
  }

  #waitUntil(
    name: string,
    labels: Record<string, string>,
    accept: (value: number | undefined) => boolean,
    condition: string,
    timeoutMs: number,
  ): Promise<unknown> {
    return waitFor(() => this.metric(name, labels), accept, {
      timeoutMs,
      what: `${name}${JSON.stringify(labels)} ${condition}`,
    });
  }

  /** Every sample of a metric for one target, by the value of one label (e.g. failures by reason). */
  async byLabel(name: string, target: string, label: string): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const s of parseSamples(await this.metricsText())) {
      if (s.name === name && s.labels.target === target)
        out[s.labels[label] ?? ''] = (out[s.labels[label] ?? ''] ?? 0) + s.value;
    }
    return out;
  }

  close(): Promise<void> {
    return this.app.close();
  }
}

/** A config for tests: HTTP on an ephemeral loopback port, quiet defaults, the given targets block. */
export function testConfig(targetsYaml: string, extra = ''): string {
  return `server: { listen: "127.0.0.1:0" }\ndefaults: { timeout: 1s, interval: 2s }\n${extra}targets:\n${targetsYaml}`;
}
