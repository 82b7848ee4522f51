// Enforces the web config on every request but /-/healthy (the kubelet's probe): rate limit, client
// certificate policy, basic auth. bcrypt runs one at a time and its verdicts are cached, as
// exporter-toolkit's web/handler.go does; an unknown user is checked against a decoy hash so timing
// does not tell which users exist. The config is swapped whole on a change (certificate rotation).

import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ConfigWatcher } from '../config/config-watcher.js';
import { ConfigError } from '../config/load.js';
import { loadWebConfig, tlsServerOptions, type WebConfig } from './web-config.js';

/** Paths that answer without TLS client checks or credentials (kubelet liveness probes). */
export const OPEN_PATHS: ReadonlySet<string> = new Set(['/-/healthy']);

/** bcrypt (cost 10) of a random password nobody kept, compared for unknown users. */
const DECOY_HASH = '$2b$10$l9abpgEb6rjJmVITz2kf3u7n48bvdnc3MtJStVI4aYbGtPfmx.D/6';
const CACHE_SIZE = 100;

export class WebSecurity {
  #config: WebConfig;
  /** sha256(user, hash, password) → verdict, insertion-ordered for eviction. */
  readonly #verdicts = new Map<string, boolean>();
  /** bcrypt is CPU-bound: one comparison at a time. */
  #bcryptQueue: Promise<unknown> = Promise.resolve();
  #tokens = 0;
  #refilledAt = performance.now();
  #watchers: ConfigWatcher[] = [];
  #watching: { file: string; server: FastifyInstance; log: Logger } | undefined;

  constructor(config: WebConfig) {
    this.#config = config;
    this.#tokens = config.rateLimit?.burst ?? 0;
  }

  get config(): WebConfig {
    return this.#config;
  }

  /** Takes a new config for the next request (TLS contexts are swapped by the caller). */
  update(config: WebConfig): void {
    this.#config = config;
    this.#verdicts.clear();
    this.#tokens = config.rateLimit?.burst ?? 0;
  }

  /**
   * Re-reads `file` whenever it or a file it names changes (a rotated certificate, a new user):
   * new TLS material takes effect for the next handshake. A broken file (say, a certificate
   * swapped before its key) keeps the running config until the next change makes it whole.
   */
  watch(file: string, server: FastifyInstance, log: Logger): void {
    this.#watching = { file, server, log };
    this.#rewatch();
  }

  close(): void {
    for (const w of this.#watchers) w.close();
    this.#watchers = [];
    this.#watching = undefined;
  }

  #reread(): void {
    if (!this.#watching) return;
    const { file, server, log } = this.#watching;
    let next: WebConfig;
    try {
      next = loadWebConfig(file);
    } catch (err) {
      const errors = err instanceof ConfigError ? err.message.split('\n') : [String(err)];
      log.error({ errors }, 'web config rejected, keeping the running one');
      return;
    }
    const running = this.#config.tls;
    if (Boolean(next.tls) !== Boolean(running) || next.tls?.clientAuth !== running?.clientAuth) {
      log.warn({ file }, 'turning TLS or client certificates on or off takes a restart; TLS unchanged');
      next = { ...next, ...(running ? { tls: running } : {}) };
      if (!running) delete next.tls;
    } else if (next.tls) {
      // https.Server.setSecureContext: connections made from now on use the new certificate.
      (server.server as unknown as { setSecureContext(options: object): void }).setSecureContext(
        tlsServerOptions(next.tls),
      );
    }
    this.update(next);
    this.#rewatch();
    log.info({ file }, 'web config reloaded');
  }

  /** One watcher per file the current config depends on (a new cert_file path is picked up). */
  #rewatch(): void {
    if (!this.#watching) return;
    for (const w of this.#watchers) w.close();
    const files = [...new Set([this.#watching.file, ...this.#config.files])];
    this.#watchers = files.map((f) => new ConfigWatcher(f, () => this.#reread()));
    for (const w of this.#watchers) w.start();
  }

  /** Installs the checks as an onRequest hook, before any route runs. */
  install(app: FastifyInstance): void {
    app.addHook('onRequest', async (request, reply) => {
      for (const [name, value] of Object.entries(this.#config.headers)) reply.header(name, value);
      const path = request.url.split('?')[0] ?? '';
      if (OPEN_PATHS.has(path)) return;
      if (!this.#takeToken()) return reply.code(429).type('text/plain').send('too many requests\n');
      const certProblem = this.#clientCertProblem(request);
      if (certProblem) return reply.code(403).type('text/plain').send(`${certProblem}\n`);
      if (Object.keys(this.#config.users).length > 0 && !(await this.#authorized(request))) {
        return unauthorized(reply);
      }
      return undefined;
    });
  }

  #takeToken(): boolean {
    const limit = this.#config.rateLimit;
    if (!limit) return true;
    const now = performance.now();
    const refill = Math.floor((now - this.#refilledAt) / limit.intervalMs);
    if (refill > 0) {
      this.#tokens = Math.min(Math.max(limit.burst, 1), this.#tokens + refill);
      this.#refilledAt += refill * limit.intervalMs;
    }
    if (this.#tokens <= 0) return false;
    this.#tokens -= 1;
    return true;
  }

  #clientCertProblem(request: FastifyRequest): string | undefined {
    const tls = this.#config.tls;
    if (!tls || tls.clientAuth === 'NoClientCert' || tls.clientAuth === 'RequestClientCert') return undefined;
    const socket = request.raw.socket as TLSSocket;
    if (typeof socket.getPeerCertificate !== 'function') return 'TLS is required';
    const cert = socket.getPeerCertificate();
    const given = cert !== null && Object.keys(cert).length > 0;
    if (!given) {
      return tls.clientAuth === 'VerifyClientCertIfGiven' ? undefined : 'a client certificate is required';
    }
    const mustVerify = tls.clientAuth !== 'RequireAnyClientCert';
    if (mustVerify && !socket.authorized) return 'the client certificate is not signed by client_ca_file';
    if (tls.clientAllowedSans.length > 0) {
      const sans = (cert.subjectaltname ?? '').split(', ').map((s) => s.replace(/^[A-Za-z ]+:/, ''));
      if (!sans.some((san) => tls.clientAllowedSans.includes(san)))
        return 'the client certificate has no allowed subject alternative name';
    }
    return undefined;
  }

  async #authorized(request: FastifyRequest): Promise<boolean> {
    const header = request.headers.authorization ?? '';
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) return false;
    const decoded = Buffer.from(match[1] ?? '', 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return false;
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const users = this.#config.users;
    const known = Object.hasOwn(users, user);
    const hash = known ? (users[user] ?? DECOY_HASH) : DECOY_HASH;
    const key = createHash('sha256').update(`${user}\0${hash}\0${password}`).digest('hex');
    const cached = this.#verdicts.get(key);
    if (cached !== undefined) return cached && known;
    const compared = this.#bcryptQueue.then(() => bcrypt.compare(password, hash));
    this.#bcryptQueue = compared.catch(() => false);
    const ok = (await compared.catch(() => false)) && known;
    this.#verdicts.set(key, ok);
    if (this.#verdicts.size > CACHE_SIZE) {
      const oldest = this.#verdicts.keys().next().value;
      if (oldest !== undefined) this.#verdicts.delete(oldest);
    }
    return ok;
  }
}

function unauthorized(reply: FastifyReply) {
  return reply
    .code(401)
    .header('WWW-Authenticate', 'Basic realm="grpc-pulse", charset="UTF-8"')
    .type('text/plain')
    .send('unauthorized\n');
}
