// The exporter-toolkit web config (`--web.config.file`, `server.web_config_file`), as Prometheus
// exporters read it (prometheus/exporter-toolkit docs/web-configuration.md): TLS for the HTTP server
// with an optional client CA and client auth type, basic auth users with bcrypt hashes, extra
// response headers and a rate limit. Relative paths resolve from the web config file's directory.

import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import bcrypt from 'bcryptjs';
import { z } from 'zod';
import { custom } from '../config/cross-field-checks.js';
import { parseDuration } from '../config/duration.js';
import { parseWithSchema, parseYaml, readConfigText } from '../config/load.js';
import { checkCertificates, checkTlsFiles } from '../config/tls-check.js';

/** Go's crypto/tls ClientAuthType names, which the file uses. */
export const CLIENT_AUTH_TYPES = [
  'NoClientCert',
  'RequestClientCert',
  'RequireAnyClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
] as const;
export type ClientAuthType = (typeof CLIENT_AUTH_TYPES)[number];

const TLS_VERSIONS = { TLS10: 'TLSv1', TLS11: 'TLSv1.1', TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

/** The headers exporter-toolkit lets a web config set, with the values it accepts (any when empty). */
const EXTRA_HEADERS: Record<string, readonly string[]> = {
  'Strict-Transport-Security': [],
  'X-Content-Type-Options': ['nosniff'],
  'X-Frame-Options': ['deny', 'sameorigin'],
  'X-XSS-Protection': [],
  'Content-Security-Policy': [],
};

/** Options of Go's tls.Config that Node's TLS names differently or not at all: refused, not ignored. */
const UNSUPPORTED_TLS_KEYS = ['cipher_suites', 'curve_preferences', 'prefer_server_cipher_suites'];

export interface WebConfig {
  /** Absent: plain HTTP. */
  tls?: {
    /** PEM contents, read when the file was loaded. */
    cert: string;
    key: string;
    clientCa: string;
    clientAuth: ClientAuthType;
    /** When non-empty, a client certificate must carry one of these SANs exactly. */
    clientAllowedSans: string[];
    minVersion: SecureContextOptions['minVersion'];
    maxVersion: SecureContextOptions['maxVersion'];
  };
  /** user → bcrypt hash; empty: no basic auth. */
  users: Record<string, string>;
  headers: Record<string, string>;
  /** Token bucket: one request per `intervalMs`, bursts of `burst`; absent: no limit. */
  rateLimit?: { intervalMs: number; burst: number };
  /** The web config file and every file it names: a change to any of them re-reads all. */
  files: string[];
}

function webConfigSchema(baseDir: string, files: string[]) {
  const pathFrom = (file: string) => (isAbsolute(file) ? file : resolve(baseDir, file));
  const pemFile = z.string().transform((file, ctx) => {
    try {
      files.push(pathFrom(file));
      return readFileSync(pathFrom(file), 'utf8');
    } catch (err) {
      custom(ctx, `cannot read file "${file}": ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
      return z.NEVER;
    }
  });
  const tlsVersion = z.enum(Object.keys(TLS_VERSIONS) as [keyof typeof TLS_VERSIONS]);
  const tls = z
    .strictObject({
      cert_file: pemFile.optional(),
      key_file: pemFile.optional(),
      cert: z.string().optional(),
      key: z.string().optional(),
      client_ca_file: pemFile.optional(),
      client_ca: z.string().optional(),
      client_auth_type: z.enum(CLIENT_AUTH_TYPES).default('NoClientCert'),
      client_allowed_sans: z.array(z.string()).default([]),
      min_version: tlsVersion.default('TLS12'),
      max_version: tlsVersion.default('TLS13'),
      ...Object.fromEntries(UNSUPPORTED_TLS_KEYS.map((k) => [k, z.unknown().optional()])),
    })
    .superRefine((t, ctx) => {
      for (const key of UNSUPPORTED_TLS_KEYS) {
        if ((t as Record<string, unknown>)[key] !== undefined)
          custom(ctx, 'not supported by grpc-pulse (Node picks ciphers and curves)', [key]);
      }
      const cert = t.cert_file ?? t.cert;
      const key = t.key_file ?? t.key;
      if (t.cert_file !== undefined && t.cert !== undefined) custom(ctx, 'give cert or cert_file, not both');
      if (t.key_file !== undefined && t.key !== undefined) custom(ctx, 'give key or key_file, not both');
      if (cert === undefined || key === undefined) {
        custom(ctx, 'needs a certificate and its key (cert_file and key_file)');
        return;
      }
      const ca = t.client_ca_file ?? t.client_ca ?? '';
      const needsCa =
        t.client_auth_type === 'VerifyClientCertIfGiven' ||
        t.client_auth_type === 'RequireAndVerifyClientCert';
      if (needsCa && ca === '')
        custom(ctx, `client_auth_type ${t.client_auth_type} needs client_ca_file`, ['client_ca_file']);
      if (ca !== '' && t.client_auth_type === 'NoClientCert') {
        custom(
          ctx,
          'client_ca_file is set but client_auth_type does not verify client certificates (use RequireAndVerifyClientCert)',
          ['client_auth_type'],
        );
      }
      if (
        t.client_allowed_sans.length > 0 &&
        t.client_auth_type !== 'RequireAnyClientCert' &&
        t.client_auth_type !== 'RequireAndVerifyClientCert'
      ) {
        custom(
          ctx,
          'client_allowed_sans needs client_auth_type RequireAnyClientCert or RequireAndVerifyClientCert',
          ['client_allowed_sans'],
        );
      }
      const field = (name: 'ca_file' | 'cert_file' | 'key_file') =>
        ({
          ca_file: 'client_ca_file',
          cert_file: t.cert_file !== undefined ? 'cert_file' : 'cert',
          key_file: t.key_file !== undefined ? 'key_file' : 'key',
        })[name];
      const caProblem = ca === '' ? undefined : checkCertificates(ca);
      if (caProblem) custom(ctx, caProblem, [field('ca_file')]);
      for (const p of checkTlsFiles({ ca_file: '', cert_file: cert, key_file: key }))
        custom(ctx, p.message, [field(p.field)]);
    });

  return z.strictObject({
    tls_server_config: tls.optional(),
    http_server_config: z
      .strictObject({
        /** Accepted for compatibility; grpc-pulse serves HTTP/1.1 (Prometheus scrapes with it). */
        http2: z.boolean().default(true),
        headers: z
          .record(z.string(), z.string())
          .default({})
          .superRefine((headers, ctx) => {
            for (const [name, value] of Object.entries(headers)) {
              const allowed = EXTRA_HEADERS[name];
              if (!allowed) custom(ctx, `HTTP header "${name}" can not be configured`, [name]);
              else if (allowed.length > 0 && !allowed.includes(value))
                custom(ctx, `must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, [name]);
            }
          }),
      })
      .prefault({}),
    basic_auth_users: z
      .record(
        z.string().refine((u) => !u.includes(':'), { error: 'a user name cannot contain ":"' }),
        z.string(),
      )
      .nullable()
      .default({})
      .superRefine((users, ctx) => {
        for (const [user, hash] of Object.entries(users ?? {})) {
          // Reported by user name only: a hash is not for logs either.
          if (!isBcryptHash(hash))
            custom(ctx, 'is not a bcrypt hash (e.g. from `htpasswd -nBC 10 ""`)', [user]);
        }
      }),
    rate_limit: z
      .strictObject({ interval: z.string(), burst: z.number().int().nonnegative().default(0) })
      .optional()
      .superRefine((limit, ctx) => {
        if (limit && parseDuration(limit.interval) === undefined)
          custom(ctx, `invalid duration "${limit.interval}"`, ['interval']);
      }),
  });
}

function isBcryptHash(hash: string): boolean {
  if (!/^\$2[abxy]?\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash)) return false;
  try {
    bcrypt.getRounds(hash);
    return true;
  } catch {
    return false;
  }
}

/** Reads and validates a web config file; throws ConfigError (file:line: path: message). */
export function loadWebConfig(file: string): WebConfig {
  const source = parseYaml(readConfigText(file, 'web config file'), file);
  const files = [resolve(file)];
  const parsed = parseWithSchema(source, webConfigSchema(dirname(resolve(file)), files));
  const t = parsed.tls_server_config;
  const intervalMs = parsed.rate_limit ? (parseDuration(parsed.rate_limit.interval) ?? 0) : 0;
  return {
    ...(t
      ? {
          tls: {
            cert: t.cert_file ?? t.cert ?? '',
            key: t.key_file ?? t.key ?? '',
            clientCa: t.client_ca_file ?? t.client_ca ?? '',
            clientAuth: t.client_auth_type,
            clientAllowedSans: t.client_allowed_sans,
            minVersion: TLS_VERSIONS[t.min_version],
            maxVersion: TLS_VERSIONS[t.max_version],
          },
        }
      : {}),
    users: parsed.basic_auth_users ?? {},
    headers: parsed.http_server_config.headers,
    ...(parsed.rate_limit && intervalMs > 0
      ? { rateLimit: { intervalMs, burst: parsed.rate_limit.burst } }
      : {}),
    files,
  };
}

/**
 * Node TLS options for a web config. Client certificates are requested but never refused in the
 * handshake: the kubelet's HTTPS probe of /-/healthy presents none, so the client auth type is
 * enforced per request (web-security.ts), for every path but /-/healthy.
 */
export function tlsServerOptions(tls: NonNullable<WebConfig['tls']>) {
  return {
    cert: tls.cert,
    key: tls.key,
    ...(tls.clientCa !== '' ? { ca: tls.clientCa } : {}),
    requestCert: tls.clientAuth !== 'NoClientCert',
    rejectUnauthorized: false,
    minVersion: tls.minVersion,
    maxVersion: tls.maxVersion,
  };
}
