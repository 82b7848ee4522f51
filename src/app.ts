// The composition root: the one module that wires config, targets, probes, recorders and the HTTP
// server together. Everything else receives what it needs through its constructor.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type Config, DEMO_TARGET_NAME, type TargetConfig } from './config/schema.js';
import { traceTap } from './connection/trace-tap.js';
import { CONNECTION_OBSERVER_METHODS, type ConnectionObserver } from './connection/watcher.js';
import { DEMO_PROTO, DEMO_SERVICE, type DemoOptions, DemoServer } from './demo/demo-server.js';
import { ConnectionRecorder } from './metrics/connection-recorder.js';
import { ProbeRecorder } from './metrics/probe-recorder.js';
import { ProcessRecorder } from './metrics/process-recorder.js';
import { PROBE_OBSERVER_METHODS, type ProbeObserver } from './probes/probe.js';
import { buildServer } from './server/build-server.js';
import { StatusStore } from './status/status-store.js';
import { TargetRunner } from './targets/target-runner.js';
import { fanOut } from './util/fan-out.js';
import { VERSION } from './version.js';

export interface AppOptions {
  logger: Logger;
  /** Overrides for the demo's rhythm (tests shorten it). */
  demo?: DemoOptions;
}

/** The demo target as if it had been configured: both health services, watched. */
function demoTarget(config: Config, address: string): TargetConfig {
  return {
    name: DEMO_TARGET_NAME,
    address,
    authority: '',
    tls: undefined,
    metadata: {},
    timeoutMs: config.defaults.timeoutMs,
    intervalMs: config.defaults.intervalMs,
    keepalive: config.defaults.keepalive,
    health: [
      { service: '', mode: 'watch' },
      { service: DEMO_SERVICE, mode: 'watch' },
    ],
    rpcs: [
      {
        name: 'echo',
        method: `${DEMO_SERVICE}/Echo`,
        proto: { files: [DEMO_PROTO], include: [] },
        reflection: false,
        request: { message: 'ping' },
        metadata: {},
        intervalMs: config.defaults.intervalMs,
        timeoutMs: config.defaults.timeoutMs,
        expect: { code: 0, response: { message: 'ping' }, max_latency: undefined },
      },
    ],
  };
}

function splitHostPort(listen: string): { host: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { host: listen.slice(0, at).replace(/^\[(.*)\]$/, '$1'), port: Number(listen.slice(at + 1)) };
}

export class App {
  readonly registry = new Registry();
  readonly #config: Config;
  readonly #log: Logger;
  readonly #options: AppOptions;
  readonly #probeRecorder: ProbeRecorder;
  readonly #connectionRecorder: ConnectionRecorder;
  readonly #processRecorder: ProcessRecorder;
  readonly #status = new StatusStore();
  readonly #server: FastifyInstance;
  #demo: DemoServer | undefined;
  #runners = new Map<string, TargetRunner>();
  #ready = false;
  #closing: Promise<void> | undefined;

  constructor(config: Config, options: AppOptions) {
    this.#config = config;
    this.#options = options;
    this.#log = options.logger;
    this.#probeRecorder = new ProbeRecorder(this.registry, [...config.metrics.duration_buckets]);
    this.#connectionRecorder = new ConnectionRecorder(this.registry);
    this.#processRecorder = new ProcessRecorder(this.registry, VERSION);
    this.#server = buildServer({
      registry: this.registry,
      logger: this.#log,
      isReady: () => this.#ready,
      targets: () => this.#status.snapshot(),
      version: VERSION,
    });
  }

  /** The HTTP server, for inject() in tests. */
  get server(): FastifyInstance {
    return this.#server;
  }

  /** Starts the demo (if enabled), every target and the HTTP server; returns the server's URL. */
  async start(): Promise<string> {
    const targets = [...this.#config.targets];
    if (this.#config.demo.enabled) {
      this.#demo = new DemoServer(this.#options.demo);
      const address = await this.#demo.start();
      this.#log.info({ address }, 'demo target started');
      targets.push(demoTarget(this.#config, address));
    }
    traceTap.install(this.#log);
    if (!traceTap.tracing) {
      this.#log.warn('grpc-js transport tracer is off: disconnect reasons will be "unknown"');
    }
    const observer = fanOut<ProbeObserver>([this.#probeRecorder, this.#status], PROBE_OBSERVER_METHODS);
    const connectionObserver = fanOut<ConnectionObserver>(
      [this.#connectionRecorder, this.#status],
      CONNECTION_OBSERVER_METHODS,
    );
    for (const target of targets) {
      this.#probeRecorder.addTarget({
        name: target.name,
        probes: TargetRunner.probeNames(target),
        healthServices: target.health.map((h) => h.service),
        watchServices: target.health.filter((h) => h.mode === 'watch').map((h) => h.service),
      });
      this.#status.addTarget(
        target.name,
        target.address,
        TargetRunner.probeNames(target),
        target.health.map((h) => ({ service: h.service, watch: h.mode === 'watch' })),
      );
      this.#connectionRecorder.addTarget(target.name);
      const runner = new TargetRunner(target, observer, connectionObserver, this.#log);
      this.#runners.set(target.name, runner);
      runner.start();
    }
    this.#processRecorder.configLoaded(true);
    const url = await this.#server.listen(splitHostPort(this.#config.server.listen));
    this.#ready = true;
    this.#log.info({ url, targets: targets.length, version: VERSION }, 'grpc-pulse ready');
    return url;
  }

  /** Stops target loops, closes channels, the demo and the HTTP server, in that order. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready = false;
      await Promise.all([...this.#runners.values()].map((r) => r.close()));
      this.#runners.clear();
      await this.#demo?.close();
      await this.#server.close();
    })();
    return this.#closing;
  }
}
