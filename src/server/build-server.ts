// The HTTP face of the sidecar (SPEC "Endpoints"). buildServer() returns a fastify instance that does
// not listen yet, so tests drive it with inject(). It knows nothing of probes: it reads a registry and a
// status snapshot through the dependencies it is given.

import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { StatusListener, TargetStatus } from '../status/status-store.js';
import { defaultPageOptions, type PageOptions, registerStatusPage } from './status-page.js';

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Time kept back from Prometheus' scrape timeout for rendering and transfer (blackbox: 0.5 s). */
const SCRAPE_MARGIN_MS = 500;

export interface ServerDeps {
  /** The Prometheus text exposition (format 0.0.4). */
  metrics: () => Promise<string>;
  logger: Logger;
  /** Config loaded and probe loops started; never depends on target health. */
  isReady: () => boolean;
  targets: () => TargetStatus[];
  /** Runs one probe now (GET /probe); a 4xx answer when the target, module or backend is unknown. */
  probe: (
    target: string,
    module: string | undefined,
    timeoutMs: number,
    backend?: string,
  ) => Promise<{ ok: { contentType: string; body: string } } | { status: number; error: string }>;
  /** Reloads the config; resolves with the errors when the new config was rejected. */
  reload: () => Promise<{ ok: true } | { ok: false; error: string }>;
  version: string;
  /** The status entries uncopied, for the page's synchronous render (default: targets()). */
  statusView?: () => readonly TargetStatus[];
  /** Status store changes, for the status page's live feed. */
  subscribe?: (listener: StatusListener) => () => void;
  /** Runbook base URL and certificate thresholds of the status page (from the alert options). */
  statusPage?: () => PageOptions;
}

export function buildServer(deps: ServerDeps): FastifyInstance {
  // Scrapes arrive every few seconds: logging each request would be steady-state noise.
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
  });

  app.get('/metrics', async (_request, reply) => {
    return reply.type(PROMETHEUS_CONTENT_TYPE).send(await deps.metrics());
  });
  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain').send('OK\n'));
  app.get('/-/ready', async (_request, reply) =>
    deps.isReady()
      ? reply.type('text/plain').send('Ready\n')
      : reply.code(503).type('text/plain').send('Not ready\n'),
  );
  app.post('/-/reload', async (_request, reply) => {
    const result = await deps.reload();
    return result.ok
      ? reply.type('text/plain').send('config reloaded\n')
      : reply
          .code(500)
          .type('text/plain')
          .send(`config reload failed, the previous config keeps running:\n${result.error}\n`);
  });
  app.get<{ Querystring: { target?: string; module?: string; backend?: string } }>(
    '/probe',
    async (request, reply) => {
      const { target, module, backend } = request.query;
      if (!target) return reply.code(400).type('text/plain').send('target parameter is missing\n');
      // Answer before Prometheus gives up: its scrape timeout, less a margin for the exposition.
      const header = Number(request.headers['x-prometheus-scrape-timeout-seconds']);
      const timeoutMs =
        Number.isFinite(header) && header > 0 ? Math.max(100, header * 1000 - SCRAPE_MARGIN_MS) : undefined;
      const outcome = await deps.probe(target, module, timeoutMs ?? Number.POSITIVE_INFINITY, backend);
      if ('error' in outcome) return reply.code(outcome.status).type('text/plain').send(`${outcome.error}\n`);
      return reply.type(outcome.ok.contentType).send(outcome.ok.body);
    },
  );
  app.get('/api/v1/targets', async () => ({ targets: deps.targets() }));
  registerStatusPage(app, {
    targets: deps.statusView ?? deps.targets,
    options: deps.statusPage ?? (() => defaultPageOptions(deps.version)),
    ...(deps.subscribe ? { subscribe: deps.subscribe } : {}),
  });
  return app;
}
