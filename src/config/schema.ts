// The config schema (SPEC "Config"): the one place that defines config types, defaults and their docs.
// Parsing also resolves secrets and files and fills every target from `defaults`, so the rest of the
// program sees only complete, valid, frozen values.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { DEFAULT_DURATION_BUCKETS } from '../metrics/names.js';
import { parseGrpcCode } from '../util/grpc-codes.js';
import { alertOptions } from './alert-options.js';
import { checkAcrossFields, custom } from './cross-field-checks.js';
import { MAX_DURATION_MS, MAX_DURATION_TEXT, parseDuration } from './duration.js';
import { checkMetadataKey, checkMetadataValue, isBinaryKey, MAX_METADATA_BYTES } from './metadata.js';
import { type MetadataValue, revealValue, Secret } from './secret.js';
import { streamOptions } from './stream-options.js';
import { checkTlsFiles } from './tls-check.js';

/** What parsing needs from outside: where relative paths start, and the environment for `from_env`. */
export interface SchemaContext {
  baseDir: string;
  env: NodeJS.ProcessEnv;
}

export const NAME_RE = /^[a-zA-Z0-9_.-]+$/;
/** limits.max_targets unless the config says otherwise. */
export const DEFAULT_MAX_TARGETS = 2000;
/** A fully-qualified protobuf service name, as grpc.health.v1 expects in HealthCheckRequest.service. */
const SERVICE_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;
const METHOD_RE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\/[A-Za-z_][A-Za-z0-9_]*$/;
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export { DEMO_TARGET_NAME } from './cross-field-checks.js';

const duration = z.string({ error: 'expected a duration string such as "10s"' }).transform((text, ctx) => {
  const ms = parseDuration(text);
  if (ms === undefined) {
    custom(ctx, `invalid duration "${text}" (expected Prometheus units such as 500ms, 10s, 1m30s)`);
    return z.NEVER;
  }
  if (ms > MAX_DURATION_MS) {
    custom(ctx, `duration "${text}" is longer than the maximum of ${MAX_DURATION_TEXT}`);
    return z.NEVER;
  }
  return ms;
});

const positiveDuration = duration.refine((ms) => ms > 0, { error: 'must be greater than 0s' });

/** host:port with a numeric port; IPv6 literals in brackets. */
function checkHostPort(text: string): string | undefined {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s/]*):(\d+)$/.exec(text);
  if (!match) return `"${text}" is not host:port`;
  const port = Number(match[2]);
  if (port > 65535) return `port ${port} in "${text}" is out of range (0-65535)`;
  return undefined;
}

function isIpWithOptionalPort(text: string): boolean {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) return isIP(bracketed[1] ?? '') === 6 && Number(bracketed[2] ?? 0) <= 65535;
  if (isIP(text) !== 0) return true;
  const colon = text.lastIndexOf(':');
  return (
    isIP(text.slice(0, colon)) === 4 &&
    /^\d+$/.test(text.slice(colon + 1)) &&
    Number(text.slice(colon + 1)) <= 65535
  );
}

/** Channel targets that grpc-js resolves: host:port, dns:[//authority/]host:port, ipv4:, ipv6:, unix:. */
function checkAddress(text: string): string | undefined {
  if (text.startsWith('unix:')) {
    return text.length > 'unix:'.length ? undefined : `"${text}" names no socket path`;
  }
  const dns = /^dns:(?:\/\/([^/]*)\/)?(.*)$/.exec(text);
  // grpc-js takes the DNS server only as an IP literal (and throws building the channel otherwise).
  const server = dns?.[1];
  if (server !== undefined && server !== '' && !isIpWithOptionalPort(server)) {
    return `DNS server "${server}" in "${text}" must be an IP address, optionally with a port`;
  }
  const hostPort = dns ? (dns[2] ?? '') : text.replace(/^ipv[46]:/, '');
  const problem = checkHostPort(hostPort);
  if (problem === undefined && Number(hostPort.slice(hostPort.lastIndexOf(':') + 1)) === 0) {
    return `port 0 in "${text}" cannot be dialled`;
  }
  if (problem === undefined || problem.includes('out of range')) return problem;
  return `invalid address "${text}" (expected host:port, dns:///host:port or unix:PATH)`;
}

/** The shape of the file: types, defaults and per-field checks. */
function makeShapeSchema(context: SchemaContext) {
  const pathFrom = (file: string) => (isAbsolute(file) ? file : resolve(context.baseDir, file));

  /** Reads a file named in the config, reporting a missing one at the key that named it. */
  const fileContents = z.string().transform((file, ctx) => {
    if (file === '') return '';
    try {
      return readFileSync(pathFrom(file), 'utf8');
    } catch (err) {
      custom(ctx, `cannot read file "${file}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      return z.NEVER;
    }
  });

  /** A plain string, or `{ from_env: NAME }` / `{ from_file: PATH }`; resolved by `metadata`. */
  const secretSpec = z.union([
    z.string(),
    z.strictObject({ from_env: z.string().min(1) }),
    z.strictObject({ from_file: z.string().min(1) }),
  ]);

  /** Resolves one value under `key`, checking it as grpc-js will (metadata.ts), the value never echoed. */
  const resolveValue = (
    key: string,
    value: z.output<typeof secretSpec>,
    ctx: z.RefinementCtx,
  ): MetadataValue | undefined => {
    let resolved: MetadataValue;
    let at: PropertyKey[] = [key];
    if (typeof value === 'string') resolved = value;
    else if ('from_env' in value) {
      at = [key, 'from_env'];
      const found = context.env[value.from_env];
      if (found === undefined || found === '') {
        custom(ctx, `environment variable ${value.from_env} is not set`, at);
        return undefined;
      }
      resolved = new Secret(found, `env ${value.from_env}`);
    } else {
      at = [key, 'from_file'];
      try {
        const file = { path: pathFrom(value.from_file), binary: isBinaryKey(key) };
        resolved = Secret.fromFile(file, `file ${value.from_file}`);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? 'unreadable';
        custom(ctx, `cannot read secret file "${value.from_file}": ${code}`, at);
        return undefined;
      }
    }
    const problem = checkMetadataValue(key, revealValue(resolved));
    if (problem) {
      custom(ctx, typeof resolved === 'string' ? problem : `${problem} (in ${resolved.source})`, at);
      return undefined;
    }
    return resolved;
  };

  const metadata = z
    .record(
      z.string().superRefine((key, ctx) => {
        const problem = checkMetadataKey(key);
        if (problem) custom(ctx, problem);
      }),
      secretSpec,
    )
    .default({})
    .transform((record, ctx) => {
      const out: Record<string, MetadataValue> = {};
      let bytes = 0;
      for (const [key, value] of Object.entries(record)) {
        const resolved = resolveValue(key, value, ctx);
        if (resolved === undefined) continue;
        out[key] = resolved;
        bytes += key.length + revealValue(resolved).length;
      }
      if (bytes > MAX_METADATA_BYTES) {
        custom(ctx, `metadata is ${bytes} bytes, more than gRPC's ${MAX_METADATA_BYTES} bytes per call`);
      }
      return out;
    });

  const keepalive = z.strictObject({
    /** Interval between HTTP/2 pings; grpc-js sends none unless this is set. */
    time: positiveDuration.optional(),
    /** How long to wait for a ping ack before the connection is declared dead. */
    timeout: positiveDuration.optional(),
    /** Ping even when no call is open (health Watch streams keep a call open anyway). */
    permit_without_calls: z.boolean().optional(),
  });

  const tls = z
    .strictObject({
      enabled: z.boolean().default(true),
      ca_file: fileContents.default(''),
      cert_file: fileContents.default(''),
      key_file: fileContents.default(''),
      /** Name checked against the server certificate (and sent as SNI), when it differs from the address. */
      server_name: z.string().default(''),
      /** Accept any server certificate: encryption without authentication. */
      insecure_skip_verify: z.boolean().default(false),
    })
    .superRefine((value, ctx) => {
      if ((value.cert_file === '') !== (value.key_file === '')) {
        custom(ctx, 'cert_file and key_file must be given together');
        return;
      }
      for (const { field, message } of checkTlsFiles(value)) custom(ctx, message, [field]);
    });

  /** One health entry: a service (watched or checked), or `discover: list` (gRFC A90 Health/List). */
  const health = z
    .strictObject({
      /** "" asks about the whole server. */
      service: z
        .string()
        .refine((s) => s === '' || SERVICE_NAME_RE.test(s), {
          error: 'invalid service name (expected "" or a name such as orders.v1.Orders)',
        })
        .optional(),
      /** watch keeps a Health/Watch stream open and falls back to check where Watch is UNIMPLEMENTED. */
      mode: z.enum(['watch', 'check']).optional(),
      /** Watch every service the server's Health/List names, found again on every connection. */
      discover: z.literal('list').optional(),
    })
    .superRefine((value, ctx) => {
      if (value.discover !== undefined && (value.service !== undefined || value.mode !== undefined)) {
        custom(ctx, 'discover: list takes no service or mode (every listed service is watched)');
      }
    })
    .transform((value): { discover: 'list' } | { service: string; mode: 'watch' | 'check' } =>
      value.discover
        ? { discover: value.discover }
        : { service: value.service ?? '', mode: value.mode ?? 'watch' },
    );

  const expect = z.strictObject({
    /** The status the call must end with. */
    code: z
      .string()
      .default('OK')
      .transform((name, ctx) => {
        const code = parseGrpcCode(name);
        if (code === undefined) {
          custom(ctx, `unknown gRPC status "${name}" (expected a name such as OK or NOT_FOUND)`);
          return z.NEVER;
        }
        return code;
      }),
    /** Subset match against the JSON form of the response. */
    response: z.record(z.string(), z.unknown()).optional(),
    max_latency: positiveDuration.optional(),
  });

  const rpc = z
    .strictObject({
      name: z.string().regex(NAME_RE, { error: 'must match [a-zA-Z0-9_.-]+' }),
      method: z.string().regex(METHOD_RE, { error: 'expected package.Service/Method' }),
      /** .proto files and import directories, relative to the config file. */
      proto: z
        .strictObject({
          files: z
            .array(z.string().min(1))
            .min(1, { error: 'lists no .proto file' })
            .transform((files) => files.map(pathFrom)),
          include: z
            .array(z.string())
            .default([])
            .transform((dirs) => dirs.map(pathFrom)),
        })
        .optional(),
      reflection: z.boolean().default(false),
      request: z.record(z.string(), z.unknown()).default({}),
      metadata,
      interval: positiveDuration.optional(),
      timeout: positiveDuration.optional(),
      expect: expect.prefault({}),
      /** A server-streaming method (SPEC "Config"): `messages: N` per call, or a stream held open. */
      stream: streamOptions(positiveDuration).optional(),
    })
    .superRefine((value, ctx) => {
      if ((value.proto !== undefined) === value.reflection) {
        custom(ctx, 'needs exactly one descriptor source: proto or reflection: true');
      }
    });

  const target = z.strictObject({
    name: z.string().regex(NAME_RE, { error: 'must match [a-zA-Z0-9_.-]+' }),
    address: z.string().superRefine((text, ctx) => {
      const problem = checkAddress(text);
      if (problem) custom(ctx, problem);
    }),
    authority: z.string().default(''),
    tls: tls.optional(),
    metadata,
    timeout: positiveDuration.optional(),
    interval: positiveDuration.optional(),
    startup_grace: duration.optional(),
    keepalive: keepalive.optional(),
    max_reconnect_backoff: positiveDuration.optional(),
    health: z.array(health).default([{ service: '', mode: 'watch' as const }]),
    rpcs: z.array(rpc).default([]),
  });

  const root = z.strictObject({
    server: z
      .strictObject({
        /** Address of the HTTP server for /metrics and friends. */
        listen: z
          .string()
          .default('0.0.0.0:9479')
          .superRefine((text, ctx) => {
            const problem = checkHostPort(text);
            if (problem) custom(ctx, problem);
          }),
        /** exporter-toolkit web config (TLS, basic auth) for every endpoint but /-/healthy; "" = none. */
        web_config_file: z
          .string()
          .default('')
          .transform((file) => (file === '' ? '' : pathFrom(file))),
        /** POST /-/reload answers 403 unless true (or --web.enable-lifecycle), as in Prometheus. */
        enable_lifecycle: z.boolean().default(false),
      })
      .prefault({}),
    /** Bounds that keep one config from exhausting the sidecar. */
    limits: z
      .strictObject({
        /** More targets than this is a config error (each target holds a channel and its series). */
        max_targets: z.number().int().positive().default(DEFAULT_MAX_TARGETS),
      })
      .prefault({}),
    log: z.strictObject({ level: z.enum(LOG_LEVELS).default('info') }).prefault({}),
    metrics: z
      .strictObject({
        /** Buckets of grpc_probe_duration_seconds, in seconds, ascending. */
        duration_buckets: z
          .array(z.number().positive())
          .min(1)
          .default(DEFAULT_DURATION_BUCKETS)
          .refine((b) => b.every((v, i) => i === 0 || v > (b[i - 1] ?? 0)), { error: 'must be ascending' }),
      })
      .prefault({}),
    /** Options of the generated alert rules (`grpc-pulse rules`). */
    alerts: alertOptions.prefault({}),
    /** An embedded demo gRPC server on 127.0.0.1, probed as target "demo" (the quick start). */
    demo: z.strictObject({ enabled: z.boolean().default(false) }).prefault({}),
    defaults: z
      .strictObject({
        timeout: positiveDuration.default(5000),
        interval: positiveDuration.default(15_000),
        /** After start, failures of a target that has not succeeded yet are not counted (0s: none). */
        startup_grace: duration.default(0),
        /** Cap of the reconnect backoff (grpc-js's, and a Watch's re-open after an error). */
        max_reconnect_backoff: positiveDuration.default(30_000),
        keepalive: z
          .strictObject({
            time: positiveDuration.default(30_000),
            timeout: positiveDuration.default(10_000),
            permit_without_calls: z.boolean().default(true),
          })
          .prefault({}),
      })
      .prefault({}),
    targets: z.array(target).default([]),
  });

  return root;
}

export type RawConfig = z.output<ReturnType<typeof makeShapeSchema>>;

function makeSchema(context: SchemaContext) {
  // `when` runs the cross-field rules even after a field failed elsewhere, so one run lists every error;
  // the rules therefore read the value defensively (a failed field keeps whatever it held).
  return makeShapeSchema(context)
    .superRefine(checkAcrossFields, { when: () => true })
    .transform(resolveDefaults);
}

/** Fills every target and rpc from `defaults`, so consumers never look anything up twice. */
function resolveDefaults(config: RawConfig) {
  const { defaults } = config;
  return {
    server: config.server,
    limits: config.limits,
    log: config.log,
    metrics: config.metrics,
    alerts: config.alerts,
    demo: config.demo,
    /** What a target added at run time (the demo) inherits. */
    defaults: {
      timeoutMs: defaults.timeout,
      intervalMs: defaults.interval,
      startupGraceMs: defaults.startup_grace,
      maxReconnectBackoffMs: defaults.max_reconnect_backoff,
      keepalive: {
        timeMs: defaults.keepalive.time,
        timeoutMs: defaults.keepalive.timeout,
        permitWithoutCalls: defaults.keepalive.permit_without_calls,
      },
    },
    targets: config.targets.map((t) => {
      const timeoutMs = t.timeout ?? defaults.timeout;
      const intervalMs = t.interval ?? defaults.interval;
      return {
        name: t.name,
        address: t.address,
        authority: t.authority,
        tls: t.tls?.enabled ? t.tls : undefined,
        metadata: t.metadata,
        timeoutMs,
        intervalMs,
        startupGraceMs: t.startup_grace ?? defaults.startup_grace,
        maxReconnectBackoffMs: t.max_reconnect_backoff ?? defaults.max_reconnect_backoff,
        keepalive: {
          timeMs: t.keepalive?.time ?? defaults.keepalive.time,
          timeoutMs: t.keepalive?.timeout ?? defaults.keepalive.timeout,
          permitWithoutCalls: t.keepalive?.permit_without_calls ?? defaults.keepalive.permit_without_calls,
        },
        health: t.health,
        rpcs: t.rpcs.map(({ interval, timeout, ...r }) => ({
          ...r,
          intervalMs: interval ?? intervalMs,
          timeoutMs: timeout ?? timeoutMs,
        })),
      };
    }),
  };
}

export function configSchema(context: SchemaContext) {
  return makeSchema(context);
}

/** A complete, validated configuration. */
export type Config = z.output<ReturnType<typeof makeSchema>>;
export type TargetConfig = Config['targets'][number];
export type HealthEntry = TargetConfig['health'][number];
/** A health entry that names a service (not `discover: list`). */
export type HealthConfig = Extract<HealthEntry, { service: string }>;
export type StreamConfig = NonNullable<RpcConfig['stream']>;
export type RpcConfig = TargetConfig['rpcs'][number];
export type TlsConfig = NonNullable<TargetConfig['tls']>;
export type AlertOptions = Config['alerts'];
