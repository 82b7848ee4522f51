// The status page at `/` (SPEC "Endpoints"): server-rendered HTML that works without JavaScript, its
// own stylesheet and script, and a live feed of Server-Sent Events from the status store. Its CSP
// allows same-origin files only (compatible with a server-wide `default-src 'self'`).

import type { FastifyInstance } from 'fastify';
import { redact } from '../config/redact.js';
import type { StatusListener, TargetStatus } from '../status/status-store.js';
import { PAGE_CSS, PAGE_ICON, PAGE_JS } from './status-page/assets.js';
import { LiveFeed } from './status-page/live-feed.js';
import type { PageOptions } from './status-page/model.js';
import { ASSET_PATHS, renderLive, renderStatusPage } from './status-page/render.js';

export type { PageOptions } from './status-page/model.js';
export { renderStatusPage } from './status-page/render.js';

/** No inline script or style, no other origin; the live feed is same-origin too. */
export const STATUS_PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export interface StatusPageDeps {
  /** Read synchronously during one render, never kept. */
  targets: () => readonly TargetStatus[];
  /** Read per render: a reload may change the alert options the page links and colours by. */
  options: () => PageOptions;
  /** Change notifications of the status store; without it the feed sends only its first page. */
  subscribe?: (listener: StatusListener) => () => void;
}

/** Default page options when the composition root gives none (alerts' own defaults). */
export function defaultPageOptions(version: string): PageOptions {
  return {
    runbookBaseUrl: 'https://github.com/grpc-pulse/grpc-pulse/blob/main/docs/runbooks',
    tlsWarningDays: 14,
    tlsCriticalDays: 3,
    version,
  };
}

export function registerStatusPage(app: FastifyInstance, deps: StatusPageDeps): void {
  const feed = new LiveFeed(
    // Hijacked replies skip the onSend redaction (security-headers.ts): the feed redacts its own pages.
    () => redact(renderLive(deps.targets(), deps.options()), { html: true }),
    deps.subscribe ?? (() => () => {}),
  );
  // Streams never end by themselves: end them before the server waits for open requests.
  app.addHook('preClose', (done) => {
    feed.close();
    done();
  });
  app.get('/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', STATUS_PAGE_CSP)
      .header('cache-control', 'no-store')
      .send(renderStatusPage(deps.targets(), deps.options())),
  );
  const asset = (path: string, type: string, body: string) =>
    app.get(path, async (_request, reply) => reply.type(type).header('cache-control', 'no-cache').send(body));
  asset(ASSET_PATHS.css, 'text/css; charset=utf-8', PAGE_CSS);
  asset(ASSET_PATHS.js, 'text/javascript; charset=utf-8', PAGE_JS);
  asset(ASSET_PATHS.icon, 'image/svg+xml', PAGE_ICON);
  // No HEAD twin: a HEAD must not open a stream that never ends.
  app.get(ASSET_PATHS.events, { exposeHeadRoute: false }, async (_request, reply) => {
    reply.hijack();
    if (!feed.attach(reply.raw))
      reply.raw.writeHead(503, { 'content-type': 'text/plain' }).end('live feed full or closing\n');
    return reply;
  });
}
