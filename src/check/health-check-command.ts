// `grpc-pulse check`: a one-shot health check with grpc_health_probe's flags and exit codes
// (grpc-ecosystem/grpc-health-probe main.go): 0 SERVING, 1 bad arguments, 2 connection failure,
// 3 RPC failure, 4 not SERVING. It prints the classified reason on failure. Run by exec probes every
// few seconds, so it loads only what it needs (no HTTP server, no metrics).

import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, connectivityState, credentials, status as Status } from '@grpc/grpc-js';
import { parseDuration } from '../config/duration.js';
import { checkMetadataKey, checkMetadataValue } from '../config/metadata.js';
import { classifyFailure } from '../connection/classify.js';
import { toHealthStatus } from '../outcome/health-statuses.js';
import { callUnary } from '../probes/call.js';
import { HEALTH_CHECK } from '../probes/health-protocol.js';
import { buildMetadata, type ChannelSpec, createChannel } from '../targets/channel.js';

export const CHECK_EXIT = {
  serving: 0,
  badArguments: 1,
  connectionFailure: 2,
  rpcFailure: 3,
  notServing: 4,
} as const;

export const CHECK_USAGE = `Usage: grpc-pulse check --addr HOST:PORT [options]

One-shot gRPC health check, flag- and exit-code-compatible with grpc_health_probe.

  --addr HOST:PORT          address of the server (required)
  --service NAME            service to check ("" = the whole server)
  --connect-timeout DUR     time to establish the connection (default 1s)
  --rpc-timeout DUR         deadline of the Check call (default 1s)
  --tls                     use TLS
  --tls-no-verify           do not verify the server certificate
  --tls-ca-cert FILE        CA certificate to verify the server with
  --tls-client-cert FILE    client certificate (mTLS)
  --tls-client-key FILE     client key (mTLS)
  --tls-server-name NAME    name to verify the certificate against
  --rpc-header 'K: V'       metadata to send; repeatable
  --user-agent UA           user agent (default grpc-pulse)
  -v                        verbose output

Exit codes: 0 SERVING, 1 bad arguments, 2 connection failure, 3 RPC failure, 4 not SERVING.
`;

class BadArguments extends Error {}

/** Budget of the evidence call after a failed connect. */
const FAIL_FAST_MS = 100;

function duration(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  // grpc_health_probe takes Go durations ("1s", "500ms"); the units it accepts are a subset of ours.
  const ms = parseDuration(value);
  if (ms === undefined || ms <= 0)
    throw new BadArguments(`--${flag} must be a positive duration such as 1s, got "${value}"`);
  return ms;
}

function readFlagFile(flag: string, path: string | undefined): string {
  if (path === undefined) return '';
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new BadArguments(
      `--${flag}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
}

interface CheckArgs {
  channel: ChannelSpec;
  service: string;
  connectTimeoutMs: number;
  rpcTimeoutMs: number;
  verbose: boolean;
}

function parseCheckArgs(argv: string[]): CheckArgs {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      addr: { type: 'string' },
      service: { type: 'string', default: '' },
      'connect-timeout': { type: 'string' },
      'rpc-timeout': { type: 'string' },
      tls: { type: 'boolean', default: false },
      'tls-no-verify': { type: 'boolean', default: false },
      'tls-ca-cert': { type: 'string' },
      'tls-client-cert': { type: 'string' },
      'tls-client-key': { type: 'string' },
      'tls-server-name': { type: 'string' },
      'rpc-header': { type: 'string', multiple: true, default: [] },
      'user-agent': { type: 'string' },
      v: { type: 'boolean', short: 'v', default: false },
    },
  });
  if (!values.addr) throw new BadArguments('--addr is required');
  const tlsFlags = [
    'tls-no-verify',
    'tls-ca-cert',
    'tls-client-cert',
    'tls-client-key',
    'tls-server-name',
  ] as const;
  if (!values.tls && tlsFlags.some((f) => values[f])) throw new BadArguments('TLS options need --tls');
  if (Boolean(values['tls-client-cert']) !== Boolean(values['tls-client-key'])) {
    throw new BadArguments('--tls-client-cert and --tls-client-key go together');
  }
  const metadata: Record<string, string> = {};
  for (const header of values['rpc-header']) {
    const at = header.indexOf(':');
    if (at <= 0) throw new BadArguments(`--rpc-header must be "key: value", got "${header}"`);
    const key = header.slice(0, at).trim().toLowerCase();
    const value = header.slice(at + 1).trim();
    // What grpc-js would throw on when the call is made, said as a bad argument (exit 1) instead.
    const problem = checkMetadataKey(key) ?? checkMetadataValue(key, value);
    if (problem) throw new BadArguments(`--rpc-header "${key}": ${problem}`);
    metadata[key] = value;
  }
  const channel: ChannelSpec = {
    address: values.addr,
    authority: '',
    tls: values.tls
      ? {
          caPem: readFlagFile('tls-ca-cert', values['tls-ca-cert']),
          certChainPem: readFlagFile('tls-client-cert', values['tls-client-cert']),
          privateKeyPem: readFlagFile('tls-client-key', values['tls-client-key']),
          serverName: values['tls-server-name'] ?? '',
          insecureSkipVerify: values['tls-no-verify'],
        }
      : undefined,
    // One call: no pings needed.
    keepalive: { timeMs: 3_600_000, timeoutMs: 20_000, permitWithoutCalls: false },
    metadata,
    ...(values['user-agent'] ? { userAgent: values['user-agent'] } : {}),
  };
  return {
    channel,
    service: values.service,
    connectTimeoutMs: duration('connect-timeout', values['connect-timeout'], 1000),
    rpcTimeoutMs: duration('rpc-timeout', values['rpc-timeout'], 1000),
    verbose: values.v,
  };
}

/** Waits until the channel is READY, or gives up at the deadline or on TRANSIENT_FAILURE. */
function connect(client: Client, timeoutMs: number): Promise<boolean> {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve(true);
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN)
        return resolve(false);
      channel.watchConnectivityState(state, deadline, (err) => (err ? resolve(false) : check()));
    };
    check();
  });
}

/** Runs the check; writes to stdout/stderr like grpc_health_probe and returns the exit code. */
export async function runCheck(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let args: CheckArgs;
  try {
    args = parseCheckArgs(argv);
  } catch (e) {
    if (e instanceof BadArguments || (e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      err.write(`error: ${(e as Error).message}\n\n${CHECK_USAGE}`);
      return CHECK_EXIT.badArguments;
    }
    throw e;
  }
  const { channel: spec, service, verbose } = args;
  const channel = createChannel(spec);
  // channelOverride: the client uses our channel; the address and credentials here are then unused.
  const client = new Client(spec.address, credentials.createInsecure(), { channelOverride: channel });
  try {
    const started = performance.now();
    const connected = await connect(client, args.connectTimeoutMs);
    if (verbose)
      err.write(
        `establishing connection: ${connected ? 'ok' : 'failed'} (${(performance.now() - started).toFixed(1)} ms)\n`,
      );
    const controller = new AbortController();
    // Not connected: one fail-fast call gives grpc-js's last connection error as evidence (in
    // TRANSIENT_FAILURE it fails at once with it; still CONNECTING, it ends "Waiting for LB pick").
    const outcome = await callUnary(
      client,
      HEALTH_CHECK,
      { service },
      {
        deadlineMs: connected ? args.rpcTimeoutMs : FAIL_FAST_MS,
        metadata: buildMetadata(spec.metadata),
        signal: controller.signal,
      },
    );
    if (!connected) {
      const details = outcome.kind === 'error' ? outcome.details : 'connection not ready';
      const reason = classifyFailure({
        code: outcome.kind === 'error' ? outcome.code : undefined,
        details,
        connected: false,
      });
      err.write(`error: connection failure: ${reason}: ${details}\n`);
      return CHECK_EXIT.connectionFailure;
    }
    if (outcome.kind === 'error') {
      if (outcome.code === Status.NOT_FOUND) {
        out.write('service unknown\nstatus: SERVICE_UNKNOWN\n');
        return CHECK_EXIT.notServing;
      }
      const reason = classifyFailure({ code: outcome.code, details: outcome.details, connected: true });
      err.write(
        `error: health rpc failed: ${reason}: ${Status[outcome.code] ?? outcome.code}: ${outcome.details}\n`,
      );
      return CHECK_EXIT.rpcFailure;
    }
    if (outcome.kind === 'cancelled') return CHECK_EXIT.rpcFailure;
    const status = toHealthStatus(outcome.response.status);
    if (verbose) err.write(`time elapsed: ${(performance.now() - started).toFixed(1)} ms\n`);
    if (status !== 'SERVING') {
      err.write(`service unhealthy (responded with "${status}")\n`);
      return CHECK_EXIT.notServing;
    }
    out.write('status: SERVING\n');
    return CHECK_EXIT.serving;
  } finally {
    client.close();
  }
}
