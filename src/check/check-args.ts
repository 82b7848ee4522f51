// `grpc-pulse check` arguments, parsed the way grpc_health_probe's Go `flag` package parses them:
// `-addr=X`, `-addr X`, `--addr=X` and `--addr X`; booleans as `-tls` or `-tls=false`; parsing stops at
// the first argument that is not a flag (Go ignores the rest). Validation and its messages follow
// grpc-ecosystem/grpc-health-probe main.go, in its order.

/** Bad arguments (exit 1). `usage`: Go's flag package prints the usage after its own errors. */
import { checkMetadataKey, checkMetadataValue } from '../config/metadata.js';

export class BadArguments extends Error {
  constructor(
    message: string,
    readonly usage = true,
  ) {
    super(message);
  }
}

export interface CheckFlags {
  addr: string;
  service: string;
  userAgent: string;
  connectTimeoutMs: number;
  rpcTimeoutMs: number;
  rpcHeaders: [string, string][];
  tls: boolean;
  tlsNoVerify: boolean;
  tlsCaCert: string;
  tlsClientCert: string;
  tlsClientKey: string;
  tlsServerName: string;
  gzip: boolean;
  verbose: boolean;
  version: boolean;
  help: boolean;
}

type Kind = 'string' | 'bool' | 'duration' | 'header';

/** Every grpc_health_probe flag, with what it sets; `-spiffe` and `-alts` are refused after parsing. */
const FLAGS: Record<string, { kind: Kind; usage: string }> = {
  addr: { kind: 'string', usage: '(required) tcp host:port to connect' },
  service: { kind: 'string', usage: 'service name to check (default: "")' },
  'user-agent': { kind: 'string', usage: 'user-agent header value of health check requests' },
  'connect-timeout': { kind: 'duration', usage: 'timeout for establishing connection (default 1s)' },
  'rpc-timeout': { kind: 'duration', usage: 'timeout for health check rpc (default 1s)' },
  'rpc-header': {
    kind: 'header',
    usage: "additional RPC headers in 'name: value' format; may be given more than once",
  },
  tls: { kind: 'bool', usage: 'use TLS (default: false, INSECURE plaintext transport)' },
  'tls-no-verify': {
    kind: 'bool',
    usage: "(with -tls) don't verify the certificate presented by the server",
  },
  'tls-ca-cert': { kind: 'string', usage: '(with -tls, optional) file containing trusted certificates' },
  'tls-client-cert': {
    kind: 'string',
    usage: '(with -tls, optional) client certificate (requires -tls-client-key)',
  },
  'tls-client-key': { kind: 'string', usage: '(with -tls) client private key (requires -tls-client-cert)' },
  'tls-server-name': {
    kind: 'string',
    usage: '(with -tls) override the hostname used to verify the certificate',
  },
  gzip: { kind: 'bool', usage: 'compress the request with gzip (responses are always decompressed)' },
  alts: { kind: 'bool', usage: 'not supported by grpc-pulse check' },
  spiffe: { kind: 'bool', usage: 'not supported by grpc-pulse check' },
  v: { kind: 'bool', usage: 'verbose logs' },
  version: { kind: 'bool', usage: 'print the version and exit' },
  h: { kind: 'bool', usage: 'show this help' },
  help: { kind: 'bool', usage: 'show this help' },
};

export const CHECK_USAGE = `Usage: grpc-pulse check -addr HOST:PORT [flags]

One-shot gRPC health check: grpc_health_probe's flags (as -flag=value, -flag value or --flag) and
exit codes, with the failure reason grpc-pulse's classifier gives.

${Object.entries(FLAGS)
  .filter(([name]) => name !== 'h')
  .map(
    ([name, f]) =>
      `  -${name}${f.kind === 'bool' ? '' : f.kind === 'duration' ? ' duration' : ' string'}\n    \t${f.usage}`,
  )
  .join('\n')}

Exit codes: 0 SERVING, 1 bad arguments, 2 connection failure, 3 RPC failure (any error status,
NOT_FOUND for an unknown service included), 4 answered but not SERVING.
`;

const UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  μs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

/** Go's time.ParseDuration ("1s", "1.5s", "300ms", "1m30s", "-1s"), in milliseconds; undefined if invalid. */
export function parseGoDuration(text: string): number | undefined {
  const match = /^([-+]?)((?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+|0)$/.exec(text);
  if (!match) return undefined;
  const sign = match[1] === '-' ? -1 : 1;
  let total = 0;
  for (const part of (match[2] ?? '').matchAll(/(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (UNITS[part[2] ?? ''] ?? 0);
  }
  return sign * total;
}

/** A duration as Go's %v prints it: "1s", "500ms", "1.5s", "1m30s", "0s". */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) {
    if (rest >= 1) return `${sign}${trim(rest)}ms`;
    if (rest >= 1e-3) return `${sign}${trim(rest * 1000)}µs`;
    return `${sign}${trim(rest * 1e6)}ns`;
  }
  let out = '';
  const hours = Math.floor(rest / 3_600_000);
  if (hours > 0) {
    out += `${hours}h`;
    rest -= hours * 3_600_000;
  }
  const minutes = Math.floor(rest / 60_000);
  if (hours > 0 || minutes > 0) {
    out += `${minutes}m`;
    rest -= minutes * 60_000;
  }
  return `${sign}${out}${trim(rest / 1000)}s`;
}

const trim = (n: number) => String(Number(n.toFixed(9)));

function parseBool(name: string, value: string): boolean {
  // Go's strconv.ParseBool.
  if (['1', 't', 'T', 'true', 'TRUE', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'false', 'FALSE', 'False'].includes(value)) return false;
  throw new BadArguments(`invalid boolean value "${value}" for -${name}: parse error`);
}

/** Parses argv (after `check`) into flags; throws BadArguments with grpc_health_probe's message. */
export function parseCheckFlags(argv: string[]): CheckFlags {
  const flags: CheckFlags = {
    addr: '',
    service: '',
    userAgent: 'grpc_health_probe',
    connectTimeoutMs: 1000,
    rpcTimeoutMs: 1000,
    rpcHeaders: [],
    tls: false,
    tlsNoVerify: false,
    tlsCaCert: '',
    tlsClientCert: '',
    tlsClientKey: '',
    tlsServerName: '',
    gzip: false,
    verbose: false,
    version: false,
    help: false,
  };
  let alts = false;
  let spiffe = false;
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] ?? '';
    if (arg === '--') break;
    if (!arg.startsWith('-') || arg === '-') break; // Go stops at the first non-flag argument
    const body = arg.replace(/^--?/, '');
    const eq = body.indexOf('=');
    const name = eq >= 0 ? body.slice(0, eq) : body;
    const spec = FLAGS[name];
    if (!spec) throw new BadArguments(`flag provided but not defined: -${name}`);
    let value: string | undefined = eq >= 0 ? body.slice(eq + 1) : undefined;
    if (spec.kind !== 'bool' && value === undefined) {
      value = argv[i + 1];
      if (value === undefined) throw new BadArguments(`flag needs an argument: -${name}`);
      i += 1;
    }
    const text = value ?? 'true';
    switch (name) {
      case 'addr':
        flags.addr = text;
        break;
      case 'service':
        flags.service = text;
        break;
      case 'user-agent':
        flags.userAgent = text;
        break;
      case 'connect-timeout':
      case 'rpc-timeout': {
        const ms = parseGoDuration(text);
        if (ms === undefined)
          throw new BadArguments(`invalid value "${text}" for flag -${name}: parse error`);
        if (name === 'connect-timeout') flags.connectTimeoutMs = ms;
        else flags.rpcTimeoutMs = ms;
        break;
      }
      case 'rpc-header': {
        const at = text.indexOf(':');
        if (at < 0)
          throw new BadArguments(
            `invalid value "${text}" for flag -rpc-header: invalid RPC header, expected 'key: value', got "${text}"`,
          );
        const key = text.slice(0, at).trim().toLowerCase();
        const headerValue = text.slice(at + 1).trim();
        // What grpc-js would throw on when the call is made, said as a bad argument (exit 1) instead.
        const problem = checkMetadataKey(key) ?? checkMetadataValue(key, headerValue);
        if (problem) throw new BadArguments(`invalid value "${text}" for flag -rpc-header: ${problem}`);
        flags.rpcHeaders.push([key, headerValue]);
        break;
      }
      case 'tls':
        flags.tls = parseBool(name, text);
        break;
      case 'tls-no-verify':
        flags.tlsNoVerify = parseBool(name, text);
        break;
      case 'tls-ca-cert':
        flags.tlsCaCert = text;
        break;
      case 'tls-client-cert':
        flags.tlsClientCert = text;
        break;
      case 'tls-client-key':
        flags.tlsClientKey = text;
        break;
      case 'tls-server-name':
        flags.tlsServerName = text;
        break;
      case 'gzip':
        flags.gzip = parseBool(name, text);
        break;
      case 'alts':
        alts = parseBool(name, text);
        break;
      case 'spiffe':
        spiffe = parseBool(name, text);
        break;
      case 'v':
        flags.verbose = parseBool(name, text);
        break;
      case 'version':
        flags.version = parseBool(name, text);
        break;
      default:
        flags.help = parseBool(name, text);
    }
  }
  if (flags.help || flags.version) return flags;
  validate(flags, alts, spiffe);
  return flags;
}

/** grpc_health_probe's checks, in its order and words. */
function validate(f: CheckFlags, alts: boolean, spiffe: boolean): void {
  const fail = (message: string) => {
    throw new BadArguments(`error: ${message}`, false);
  };
  if (f.addr === '') fail('-addr not specified');
  if (f.connectTimeoutMs <= 0)
    fail(`-connect-timeout must be greater than zero (specified: ${formatGoDuration(f.connectTimeoutMs)})`);
  if (f.rpcTimeoutMs <= 0)
    fail(`-rpc-timeout must be greater than zero (specified: ${formatGoDuration(f.rpcTimeoutMs)})`);
  if (alts) fail('-alts is not supported by grpc-pulse check (use grpc_health_probe for ALTS)');
  if (spiffe)
    fail('-spiffe is not supported by grpc-pulse check (use -tls with -tls-client-cert/-tls-client-key)');
  if (!f.tls && f.tlsNoVerify) fail('specified -tls-no-verify without specifying -tls');
  if (!f.tls && f.tlsCaCert !== '') fail('specified -tls-ca-cert without specifying -tls');
  if (!f.tls && f.tlsClientCert !== '') fail('specified -tls-client-cert without specifying -tls');
  if (!f.tls && f.tlsServerName !== '') fail('specified -tls-server-name without specifying -tls');
  if (f.tlsClientCert !== '' && f.tlsClientKey === '')
    fail('specified -tls-client-cert without specifying -tls-client-key');
  if (f.tlsClientCert === '' && f.tlsClientKey !== '')
    fail('specified -tls-client-key without specifying -tls-client-cert');
  if (f.tlsNoVerify && f.tlsCaCert !== '')
    fail('cannot specify -tls-ca-cert with -tls-no-verify (CA cert would not be used)');
  if (f.tlsNoVerify && f.tlsServerName !== '')
    fail('cannot specify -tls-server-name with -tls-no-verify (server name would not be used)');
}
