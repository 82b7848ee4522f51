// Response hardening for every reply: the redaction pass over text bodies (a target's error details
// may quote a secret it was sent), X-Content-Type-Options everywhere, and a strict CSP plus
// X-Frame-Options on HTML (status-page.ts' same-origin-only policy, unless a route set its own).

import type { FastifyInstance } from 'fastify';
import { redact } from '../config/redact.js';
import { STATUS_PAGE_CSP } from './status-page.js';

export function installSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('X-Content-Type-Options', 'nosniff');
    const type = String(reply.getHeader('content-type') ?? '');
    const html = type.startsWith('text/html');
    if (html) {
      if (!reply.hasHeader('Content-Security-Policy'))
        reply.header('Content-Security-Policy', STATUS_PAGE_CSP);
      if (!reply.hasHeader('X-Frame-Options')) reply.header('X-Frame-Options', 'DENY');
    }
    return typeof payload === 'string' ? redact(payload, { html }) : payload;
  });
}
