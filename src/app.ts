// The composition root: the one module that wires config, targets, probes, recorders and the HTTP
// server together, and reloads the config (SIGHUP, POST /-/reload, a changed file). Everything else
// receives what it needs through its constructor.

import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { ConfigWatcher } from './config/config-watcher.js';
import { ConfigError, loadConfigFile } from './config/load.js';
import { redactError } from './config/redact.js';
import { type Config, DEMO_TARGET_NAME, type TargetConfig } from './config/schema.js';
import { SecretFileWatcher } from './config/secret-watcher.js';
import { traceTap } from './connection/trace-tap.js';
import type { DemoOptions, DemoServer } from './demo/demo-server.js';
import { ConnectionRecorder } from './metrics/connection-recorder.js';
import { MetricTable } from './metrics/metric-table.js';
import { renderProbeResult } from './metrics/probe-exposition.js';
import { ProbeRecorder } from './metrics/probe-recorder.js';
import { ProcessRecorder } from './metrics/process-recorder.js';
import { buildServer } from './server/build-server.js';
import { tlsServerOptions, type WebConfig } from './server/web-config.js';
import { WebSecurity } from './server/web-security.js';
import { StatusStore } from './status/status-store.js';
import { TARGET_SINK_METHODS, type TargetSink } from './targets/sink.js';
import { type ReconcileSummary, TargetPrepareError, TargetSet } from './targets/target-set.js';
import { fanOut } from './util/fan-out.js';
import { VERSION } from './version.js';

export interface AppOptions {
  logger: Logger;
  /** The file the config came from: reloads read it again, and it is watched for changes. */
  configFile?: string;
  /** Overrides for the demo's rhythm (tests shorten it). */
  demo?: DemoOptions;
  env?: NodeJS.ProcessEnv;
  /** The exporter-toolkit web config in effect (TLS, basic auth) and the file it is re-read from. */
  web?: { file: string; config: WebConfig };
  /** --web.enable-lifecycle: POST /-/reload works whatever server.enable_lifecycle says. */
  enableLifecycle?: boolean;
}

/** The running demo server: where it listens and what it serves. */
interface DemoRunning {
  address: string;
  service: string;
  proto: string;
}

export type ReloadResult = { ok: true } | { ok: false; error: string };

/** The demo target as if it had been configured: both health services watched, and the Echo rpc. */
function demoTarget(config: Config, demo: DemoRunning): TargetConfig {
  const { address, service: DEMO_SERVICE, proto: DEMO_PROTO } = demo;
  return {
    name: DEMO_TARGET_NAME,
    address,
    authority: '',
    tls: undefined,
    metadata: {},
    timeoutMs: config.defaults.timeoutMs,
    intervalMs: config.defaults.intervalMs,
    startupGraceMs: config.defaults.startupGraceMs,
    maxReconnectBackoffMs: config.defaults.maxReconnectBackoffMs,
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
  /** prom-client: process_*, nodejs_*, build info and config reload gauges. */
  readonly registry = new Registry();
  /** Every per-target series (metric-table.ts says why not prom-client). */
  readonly #table = new MetricTable();
  #config: Config;
  readonly #log: Logger;
  readonly #options: AppOptions;
  readonly #processRecorder: ProcessRecorder;
  readonly #status = new StatusStore();
  readonly #targets: TargetSet;
  readonly #server: FastifyInstance;
  #watcher: ConfigWatcher | undefined;
  readonly #web: WebSecurity | undefined;
  readonly #secretFiles: SecretFileWatcher;
  #demo: DemoServer | undefined;
  #demoRunning: DemoRunning | undefined;
  #ready = false;
  #closing: Promise<void> | undefined;
  /** One-off /probe calls in flight. */
  readonly #inflight = new Set<AbortController>();
  /** Reloads run one after another (SIGHUP, POST /-/reload and the file watcher may coincide). */
  #reloading: Promise<unknown> = Promise.resolve();
  /** The reload waiting for the running one to finish, which new requests join. */
  #queued: Promise<ReloadResult> | undefined;

  constructor(config: Config, options: AppOptions) {
    this.#config = config;
    this.#options = options;
    this.#log = options.logger;
    const probeRecorder = new ProbeRecorder(this.#table, [...config.metrics.duration_buckets]);
    const connectionRecorder = new ConnectionRecorder(this.#table);
    this.#processRecorder = new ProcessRecorder(this.registry, VERSION);
    this.#targets = new TargetSet({
      sink: fanOut<TargetSink>([probeRecorder, connectionRecorder, this.#status], TARGET_SINK_METHODS),
      log: this.#log,
    });
    this.#secretFiles = new SecretFileWatcher(this.#log);
    const web = options.web ? new WebSecurity(options.web.config) : undefined;
    this.#web = web;
    const tls = options.web?.config.tls;
    this.#server = buildServer({
      ...(tls ? { https: tlsServerOptions(tls) } : {}),
      ...(web ? { secure: (server: FastifyInstance) => web.install(server) } : {}),
      lifecycleEnabled: () => options.enableLifecycle === true || this.#config.server.enable_lifecycle,
      metrics: () => this.metricsChunks(),
      logger: this.#log,
      isReady: () => this.#ready,
      targets: () => this.#status.snapshot(),
      reload: () => this.reload(),
      probe: (target, module, timeoutMs) => this.#probeNow(target, module, timeoutMs),
      version: VERSION,
      statusView: () => this.#status.view(),
      subscribe: (listener) => this.#status.subscribe(listener),
      statusPage: () => ({
        runbookBaseUrl: this.#config.alerts.runbook_base_url,
        tlsWarningDays: this.#config.alerts.tls_warning_days,
        tlsCriticalDays: this.#config.alerts.tls_critical_days,
        version: VERSION,
      }),
    });
  }

  /** The exposition: prom-client's process and build metrics, then the per-target series. */
  async metricsText(): Promise<string> {
    let text = '';
    for await (const piece of this.metricsChunks()) text += piece;
    return text;
  }

  /** The exposition in pieces, as GET /metrics streams it. */
  async *metricsChunks(): AsyncGenerator<string> {
    const own = await this.registry.metrics();
    yield own.endsWith('\n') ? own : `${own}\n`;
    yield* this.#table.chunks();
  }

  /** The HTTP server, for inject() in tests. */
  get server(): FastifyInstance {
    return this.#server;
  }

  /** Starts the demo (if enabled), every target and the HTTP server; returns the server's URL. */
  async start(): Promise<string> {
    traceTap.install(this.#log);
    if (!traceTap.tracing)
      this.#log.warn('grpc-js transport tracer is off: disconnect reasons will be "unknown"');
    if (this.#config.demo.enabled) {
      // Loaded only when enabled: a sidecar's config never pays for the demo's server and protos.
      const { DemoServer, DEMO_PROTO, DEMO_SERVICE } = await import('./demo/demo-server.js');
      this.#demo = new DemoServer(this.#options.demo);
      const address = await this.#demo.start();
      this.#demoRunning = { address, service: DEMO_SERVICE, proto: DEMO_PROTO };
      this.#log.info({ address }, 'demo target started');
    }
    await this.#targets.apply(this.#desiredTargets(this.#config));
    this.#secretFiles.update(this.#runningConfigs());
    this.#processRecorder.configLoaded(true);
    const url = await this.#server.listen(splitHostPort(this.#config.server.listen));
    if (this.#web && this.#options.web) this.#web.watch(this.#options.web.file, this.#server, this.#log);
    if (this.#options.configFile) {
      this.#watcher = new ConfigWatcher(
        this.#options.configFile,
        () => {
          this.#log.info({ file: this.#options.configFile }, 'config file changed');
          // reload() never rejects; the catch only keeps a bug from becoming an unhandled rejection.
          this.reload().catch((err: unknown) =>
            this.#log.error({ error: redactError(err) }, 'reload failed'),
          );
        },
        () => this.#log.debug('config file checked, unchanged'),
      );
      this.#watcher.start();
    }
    this.#ready = true;
    const targets = this.#desiredTargets(this.#config).length;
    this.#log.info(
      { url, targets, demo: this.#demoRunning !== undefined, version: VERSION },
      'grpc-pulse ready',
    );
    return url;
  }

  /**
   * Loads the config file again and reconciles the targets. An invalid file changes nothing: the
   * running config stays, the errors are logged and returned, and the reload gauge goes to 0.
   */
  reload(): Promise<ReloadResult> {
    // A reload that has not begun yet reads the file when it does: later requests join it, so a
    // burst of requests (or signals) costs at most the running reload and one more.
    if (this.#queued) return this.#queued;
    const next = this.#reloading
      .then(() => {
        this.#queued = undefined;
        return this.#reload();
      })
      .catch((err: unknown): ReloadResult => {
        // Whatever failed (a target that would not start), the reload is reported, never thrown.
        const error = redactError(err);
        this.#processRecorder.configLoaded(false);
        this.#log.error({ error }, 'config reload failed');
        return { ok: false, error };
      });
    this.#reloading = next;
    this.#queued = next;
    return next;
  }

  async #reload(): Promise<ReloadResult> {
    const file = this.#options.configFile;
    if (!file || this.#closing) return { ok: false, error: 'no config file to reload' };
    let config: Config;
    try {
      config = loadConfigFile(file, { env: this.#options.env ?? process.env });
    } catch (err) {
      const error = err instanceof ConfigError ? err.message : String(err);
      this.#processRecorder.configLoaded(false);
      this.#log.error({ errors: error.split('\n') }, 'config reload rejected, keeping the running config');
      return { ok: false, error };
    }
    for (const [key, before, after] of [
      ['server.listen', this.#config.server.listen, config.server.listen],
      ['server.web_config_file', this.#config.server.web_config_file, config.server.web_config_file],
      ['demo.enabled', this.#config.demo.enabled, config.demo.enabled],
      [
        'metrics.duration_buckets',
        String(this.#config.metrics.duration_buckets),
        String(config.metrics.duration_buckets),
      ],
    ] as const) {
      if (before !== after) this.#log.warn({ key }, 'this setting changes only on restart');
    }
    let summary: ReconcileSummary;
    try {
      summary = await this.#targets.apply(this.#desiredTargets(config));
    } catch (err) {
      if (!(err instanceof TargetPrepareError)) throw err;
      // Nothing was stopped: the running targets and config stay as they were.
      const error = `${file}: ${redactError(err)}`;
      this.#processRecorder.configLoaded(false);
      this.#log.error({ errors: [error] }, 'config reload rejected, keeping the running config');
      return { ok: false, error };
    }
    this.#log.level = config.log.level;
    this.#config = config;
    this.#secretFiles.update(this.#runningConfigs());
    this.#processRecorder.configLoaded(true);
    this.#log.info(summary, 'config reloaded');
    return { ok: true };
  }

  /** One probe now, for GET /probe; its deadline is the smaller of its own timeout and the scrape's. */
  async #probeNow(targetName: string, module: string | undefined, scrapeBudgetMs: number) {
    const runner = this.#targets.get(targetName);
    if (!runner) return { status: 404, error: `unknown target "${targetName}"` };
    const names = runner.probeNames;
    const name = module ?? names[0] ?? '';
    const probe = runner.probe(name);
    if (!probe)
      return {
        status: 400,
        error: `unknown module "${name}" for target "${targetName}" (known: ${names.join(', ')})`,
      };
    const started = performance.now();
    // A reload or shutdown that closes the runner cancels the attempt: 503, not a failure of the target.
    // close() also aborts what is in flight at once, before it waits for a running reload.
    const abort = new AbortController();
    this.#inflight.add(abort);
    const outcome = await probe
      .once(Math.min(scrapeBudgetMs, probe.timeoutMs), AbortSignal.any([runner.signal, abort.signal]))
      .finally(() => this.#inflight.delete(abort));
    if (!outcome) return { status: 503, error: 'probe cancelled: grpc-pulse is reloading or stopping' };
    const seconds = (performance.now() - started) / 1000;
    return { ok: await renderProbeResult(outcome, seconds) };
  }

  /** The configs the runners actually hold: an unchanged target keeps the Secret objects it started with. */
  #runningConfigs(): TargetConfig[] {
    return this.#targets.configs();
  }

  #desiredTargets(config: Config): TargetConfig[] {
    const targets = [...config.targets];
    // The demo runs from start to exit; its target follows the current defaults.
    if (this.#demoRunning) targets.push(demoTarget(config, this.#demoRunning));
    return targets;
  }

  /** Stops reloads, target loops, channels, the demo and the HTTP server, in that order. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ready = false;
      for (const abort of this.#inflight) abort.abort();
      this.#watcher?.close();
      this.#web?.close();
      this.#secretFiles.close();
      await this.#reloading.catch(() => {});
      await this.#targets.close();
      await this.#demo?.close();
      await this.#server.close();
    })();
    return this.#closing;
  }
}
