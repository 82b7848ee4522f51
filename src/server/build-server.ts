// The HTTP face of the sidecar (SPEC "Endpoints"). buildServer() returns a fastify instance that does
// not listen yet, so tests drive it with inject(). It knows nothing of probes: it reads a registry and a
// status snapshot through the dependencies it is given.

import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { StatusListener, TargetStatus } from '../status/status-store.js';
import { type ExpositionSource, expositionBody } from './exposition-response.js';
import { installSecurityHeaders } from './security-headers.js';
import { defaultPageOptions, type PageOptions, registerStatusPage } from './status-page.js';

const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Time kept back from Prometheus' scrape timeout for rendering and transfer (blackbox: 0.5 s). */
const SCRAPE_MARGIN_MS = 500;

export interface ServerDeps {
  /** The Prometheus text exposition (format 0.0.4), in pieces (exposition-response.ts). */
  metrics: ExpositionSource;
  logger: Logger;
  /** Config loaded and probe loops started; never depends on target health. */
  isReady: () => boolean;
  targets: () => TargetStatus[];
  /** Runs one probe now (GET /probe); a 4xx answer when the target or module is unknown. */
  probe: (
    target: string,
    module: string | undefined,
    timeoutMs: number,
  ) => Promise<{ ok: { contentType: string; body: string } } | { status: number; error: string }>;
  /** Reloads the config; resolves with the errors when the new config was rejected. */
  reload: () => Promise<{ ok: true } | { ok: false; error: string }>;
  version: string;
  /** POST /-/reload works only while this says so (server.enable_lifecycle, --web.enable-lifecycle). */
  lifecycleEnabled?: () => boolean;
  /** HTTPS options from the web config; plain HTTP when absent. */
  https?: object;
  /** Installs request checks (web-security.ts) before the routes. */
  secure?: (app: FastifyInstance) => void;
  /** The status entries uncopied, for the page's synchronous render (default: targets()). */
  statusView?: () => readonly TargetStatus[];
  /** Status store changes, for the status page's live feed. */
  subscribe?: (listener: StatusListener) => () => void;
  /** Runbook base URL and certificate thresholds of the status page (from the alert options). */
  statusPage?: () => PageOptions;
}

/** What POST /-/reload answers while lifecycle endpoints are off (as Prometheus does). */
export const LIFECYCLE_DISABLED =
  'lifecycle APIs are not enabled: set server.enable_lifecycle: true or pass --web.enable-lifecycle (SIGHUP and config file changes reload anyway)';

export function buildServer(deps: ServerDeps): FastifyInstance {
  // Scrapes arrive every few seconds: logging each request would be steady-state noise.
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies are never needed (POST /-/reload takes none): a flood cannot buffer megabytes.
    bodyLimit: 4096,
    ...(deps.https ? { https: deps.https } : {}),
  }) as unknown as FastifyInstance;
  installSecurityHeaders(app);
  deps.secure?.(app);

  app.get('/metrics', async (request, reply) => {
    const { body, headers } = expositionBody(deps.metrics, request.headers['accept-encoding']);
    return reply.type(PROMETHEUS_CONTENT_TYPE).headers(headers).send(body);
  });
  app.get('/-/healthy', async (_request, reply) => reply.type('text/plain').send('OK\n'));
  app.get('/-/ready', async (_request, reply) =>
    deps.isReady()
      ? reply.type('text/plain').send('Ready\n')
      : reply.code(503).type('text/plain').send('Not ready\n'),
  );
  app.post('/-/reload', async (request, reply) => {
    if (!deps.lifecycleEnabled?.()) return reply.code(403).type('text/plain').send(`${LIFECYCLE_DISABLED}\n`);
    // A page on another origin can POST text/plain without a preflight; a browser names its origin.
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== `${request.protocol}://${request.headers.host}`) {
      return reply.code(403).type('text/plain').send('cross-origin reload refused\n');
    }
    const result = await deps.reload();
    return result.ok
      ? reply.type('text/plain').send('config reloaded\n')
      : reply
          .code(500)
          .type('text/plain')
          .send(`config reload failed, the previous config keeps running:\n${result.error}\n`);
  });
  app.get<{ Querystring: { target?: string; module?: string } }>('/probe', async (request, reply) => {
    const { target, module } = request.query;
    if (!target) return reply.code(400).type('text/plain').send('target parameter is missing\n');
    // Answer before Prometheus gives up: its scrape timeout, less a margin for the exposition.
    const header = Number(request.headers['x-prometheus-scrape-timeout-seconds']);
    const timeoutMs =
      Number.isFinite(header) && header > 0 ? Math.max(100, header * 1000 - SCRAPE_MARGIN_MS) : undefined;
    const outcome = await deps.probe(target, module, timeoutMs ?? Number.POSITIVE_INFINITY);
    if ('error' in outcome) return reply.code(outcome.status).type('text/plain').send(`${outcome.error}\n`);
    return reply.type(outcome.ok.contentType).send(outcome.ok.body);
  });
  app.get('/api/v1/targets', async () => ({ targets: deps.targets() }));
  registerStatusPage(app, {
    targets: deps.statusView ?? deps.targets,
    options: deps.statusPage ?? (() => defaultPageOptions(deps.version)),
    ...(deps.subscribe ? { subscribe: deps.subscribe } : {}),
  });
  return app;
}
