// `grpc-pulse diagnose ADDRESS [flags]`: argv → options. TLS, service and metadata flags are the ones
// `check` takes (grpc_health_probe's names); the discovery tests are opt-in and bounded.

import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseArgs } from 'node:util';
import { parseDuration } from '../config/duration.js';

export class DiagnoseUsageError extends Error {}

export interface DiagnoseTls {
  /** PEM text; "" = the system roots / no client certificate. */
  caPem: string;
  certPem: string;
  keyPem: string;
  /** Name to verify the certificate against (and SNI); defaults to the host of ADDRESS. */
  serverName: string;
  insecure: boolean;
}

export interface DiagnoseOptions {
  /** ADDRESS as given. */
  address: string;
  /** Host name or IP literal (no brackets). */
  host: string;
  port: number;
  /** `unix:PATH`: a Unix domain socket (host is then "localhost", port 0). */
  unixPath?: string;
  /** `dns://SERVER:PORT/host:port`: the DNS server to ask instead of the system resolver. */
  dnsServer?: { host: string; port: number };
  tls?: DiagnoseTls;
  service: string;
  metadata: Record<string, string>;
  connectTimeoutMs: number;
  rpcTimeoutMs: number;
  /** --idle-test: how long to hold idle (and busy) connections open; undefined = not run. */
  idleTestMs?: number;
  /** --ping-test: the time budget of the ping-policy test; undefined = not run. */
  pingBudgetMs?: number;
  json: boolean;
}

export const DIAGNOSE_USAGE = `Usage: grpc-pulse diagnose ADDRESS [options]

Checks every layer between here and a gRPC server, one step each: DNS, TCP to every address, TLS,
HTTP/2 (SETTINGS, PING round trip), health (Check, Watch, List), reflection. A failed step names the
likely cause and the fix. ADDRESS is host:port, dns:///host:port, dns://DNS_SERVER:PORT/host:port or unix:PATH.

  --service NAME            health service to check ("" = the whole server)
  --tls                     use TLS; --tls-no-verify, --tls-ca-cert FILE, --tls-client-cert FILE,
                            --tls-client-key FILE, --tls-server-name NAME as in \`check\`
  --rpc-header 'K: V'       metadata to send with the health and reflection calls; repeatable
  --connect-timeout DUR     per connection attempt (default 3s)
  --rpc-timeout DUR         per call (default 3s)
  --idle-test DUR           hold an idle and a busy HTTP/2 connection open for DUR (at most 1h):
                            reports the idle cutoff (server GOAWAY, FIN or RST from something in
                            between) and the server's max connection age
  --ping-test               ping at shrinking intervals until the server answers GOAWAY
                            too_many_pings: the lower bound of keepalive.time
  --ping-budget DUR         time budget of --ping-test (default 30s, at most 1h; the first interval is about an eighth of it)
  --json                    print one JSON object instead of the table

Exit codes: 0 every step ok (or warn), 1 bad arguments, 2 failed before an HTTP/2 connection
existed, 3 an RPC failed, 4 health answered but not SERVING.
`;

const MAX_IDLE_TEST_MS = 3_600_000;
const MAX_PING_BUDGET_MS = 3_600_000;
const DEFAULT_PING_BUDGET_MS = 30_000;

function duration(flag: string, value: string | undefined, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new DiagnoseUsageError(`--${flag} must be a positive duration such as 3s, got "${value}"`);
  if (ms > max) throw new DiagnoseUsageError(`--${flag} must be at most ${max / 1000}s, got "${value}"`);
  return ms;
}

function readPem(flag: string, path: string | undefined): string {
  if (path === undefined) return '';
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new DiagnoseUsageError(
      `--${flag}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

/** host:port with an optional [IPv6] literal; the port is required (gRPC has no default on a sidecar). */
function hostPort(text: string, what: string): { host: string; port: number } {
  const match = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new DiagnoseUsageError(`${what} must be host:port (or [IPv6]:port), got "${text}"`);
  }
  if (text.startsWith('[') && isIP(match[1]) !== 6) throw new DiagnoseUsageError(`"${match[1]}" is not IPv6`);
  return { host: match[1], port };
}

/** ADDRESS: host:port, dns:///host:port, dns://SERVER[:PORT]/host:port, unix:PATH (as grpc-js). */
export function parseAddress(
  address: string,
): Pick<DiagnoseOptions, 'host' | 'port' | 'dnsServer' | 'unixPath'> {
  const unix = /^unix:(?:\/\/)?(.+)$/.exec(address);
  if (unix?.[1]) return { host: 'localhost', port: 0, unixPath: unix[1] };
  const dns = /^dns:\/\/([^/]*)\/(.+)$/.exec(address);
  if (!dns) return hostPort(address, 'ADDRESS');
  const target = hostPort(dns[2] ?? '', 'the host:port of a dns: ADDRESS');
  if (!dns[1]) return target;
  const server = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(dns[1]);
  const serverHost = server?.[1] ?? '';
  if (isIP(serverHost) === 0)
    throw new DiagnoseUsageError(`the DNS server of "${address}" must be an IP address`);
  return { ...target, dnsServer: { host: serverHost, port: Number(server?.[2] ?? 53) } };
}

export function parseDiagnoseArgs(argv: string[]): DiagnoseOptions {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      service: { type: 'string', default: '' },
      tls: { type: 'boolean', default: false },
      'tls-no-verify': { type: 'boolean', default: false },
      'tls-ca-cert': { type: 'string' },
      'tls-client-cert': { type: 'string' },
      'tls-client-key': { type: 'string' },
      'tls-server-name': { type: 'string' },
      'rpc-header': { type: 'string', multiple: true, default: [] },
      'connect-timeout': { type: 'string' },
      'rpc-timeout': { type: 'string' },
      'idle-test': { type: 'string' },
      'ping-test': { type: 'boolean', default: false },
      'ping-budget': { type: 'string' },
      json: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1) {
    throw new DiagnoseUsageError(
      positionals.length === 0 ? 'diagnose needs an ADDRESS' : `unexpected argument "${positionals[1]}"`,
    );
  }
  const address = positionals[0] as string;
  const tlsFlags = [
    'tls-no-verify',
    'tls-ca-cert',
    'tls-client-cert',
    'tls-client-key',
    'tls-server-name',
  ] as const;
  if (!values.tls && tlsFlags.some((f) => values[f])) throw new DiagnoseUsageError('TLS options need --tls');
  if (Boolean(values['tls-client-cert']) !== Boolean(values['tls-client-key'])) {
    throw new DiagnoseUsageError('--tls-client-cert and --tls-client-key go together');
  }
  if (values['ping-budget'] !== undefined && !values['ping-test'])
    throw new DiagnoseUsageError('--ping-budget needs --ping-test');
  const metadata: Record<string, string> = {};
  for (const header of values['rpc-header']) {
    const at = header.indexOf(':');
    if (at <= 0) throw new DiagnoseUsageError(`--rpc-header must be "key: value", got "${header}"`);
    const key = header.slice(0, at).trim().toLowerCase();
    const value = header.slice(at + 1).trim();
    // What gRPC allows on the wire (grpc-js throws on anything else); the value is never echoed back.
    if (!/^[0-9a-z_.-]+$/.test(key) || key.startsWith('grpc-')) {
      throw new DiagnoseUsageError(`--rpc-header key "${key}" is not a valid gRPC metadata key`);
    }
    if (!key.endsWith('-bin') && !/^[\x20-\x7e]*$/.test(value)) {
      throw new DiagnoseUsageError(`--rpc-header "${key}": the value must be printable ASCII`);
    }
    metadata[key] = value;
  }
  const parsed = parseAddress(address);
  const options: DiagnoseOptions = {
    address,
    ...parsed,
    service: values.service,
    metadata,
    connectTimeoutMs: duration('connect-timeout', values['connect-timeout'], 3000, 60_000),
    rpcTimeoutMs: duration('rpc-timeout', values['rpc-timeout'], 3000, 60_000),
    json: values.json,
  };
  if (values.tls) {
    options.tls = {
      caPem: readPem('tls-ca-cert', values['tls-ca-cert']),
      certPem: readPem('tls-client-cert', values['tls-client-cert']),
      keyPem: readPem('tls-client-key', values['tls-client-key']),
      serverName: values['tls-server-name'] ?? '',
      insecure: values['tls-no-verify'],
    };
  }
  if (values['idle-test'] !== undefined)
    options.idleTestMs = duration('idle-test', values['idle-test'], 0, MAX_IDLE_TEST_MS);
  if (values['ping-test'])
    options.pingBudgetMs = duration(
      'ping-budget',
      values['ping-budget'],
      DEFAULT_PING_BUDGET_MS,
      MAX_PING_BUDGET_MS,
    );
  return options;
}
