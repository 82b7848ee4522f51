// `grpc-pulse check`: a one-shot health check, a drop-in for grpc_health_probe (grpc-ecosystem/
// grpc-health-probe main.go): its flags, exit codes (0 SERVING, 1 bad arguments, 2 connection failure,
// 3 RPC failure, 4 not SERVING) and messages on stderr, each failure followed by the reason the
// daemon's classifier gives ("(reason: tls_error)"), through the same door (failure-evidence.ts).
// Run by exec probes every few seconds, so it loads only what it needs (no HTTP server, no metrics).

import { readFileSync } from 'node:fs';
import { Client, connectivityState, credentials, status as Status } from '@grpc/grpc-js';
import { pino } from 'pino';
import { traceTap } from '../connection/trace-tap.js';
import { type ConnectionObserver, ConnectionWatcher } from '../connection/watcher.js';
import { toHealthStatus } from '../outcome/health-statuses.js';
import { callUnary } from '../probes/call.js';
import { FailureEvidenceCollector } from '../probes/failure-evidence.js';
import { HEALTH_CHECK } from '../probes/health-protocol.js';
import { buildMetadata, type ChannelSpec, createChannel } from '../targets/channel.js';
import { GRPC_CODE_LABELS } from '../util/grpc-codes.js';
import { VERSION } from '../version.js';
import {
  BadArguments,
  CHECK_USAGE,
  type CheckFlags,
  formatGoDuration,
  parseCheckFlags,
} from './check-args.js';

export { CHECK_USAGE } from './check-args.js';

export const CHECK_EXIT = {
  serving: 0,
  badArguments: 1,
  connectionFailure: 2,
  rpcFailure: 3,
  notServing: 4,
} as const;

/** Budget of the evidence call after the connect timeout. */
const FAIL_FAST_MS = 100;
/** Budget of the evidence call after the connection failed outright (TRANSIENT_FAILURE). */
const FAILED_EVIDENCE_MS = 1000;

/** grpc-js's compression algorithm number for gzip (compression-algorithms.ts). */
const GZIP = 2;

function readFlagFile(flag: string, path: string): string {
  if (path === '') return '';
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    // grpc_health_probe: "failed to initialize tls credentials. error=..." (exit 1).
    throw new BadArguments(
      `failed to initialize tls credentials. error=-${flag}: cannot read "${path}": ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      false,
    );
  }
}

/** grpc_health_probe's -addr=:50051 dials the local host, as Go's net.Dial does. */
function address(addr: string): string {
  return addr.startsWith(':') ? `127.0.0.1${addr}` : addr;
}

function channelSpecOf(flags: CheckFlags): ChannelSpec {
  const metadata: Record<string, string> = {};
  for (const [key, value] of flags.rpcHeaders) metadata[key.toLowerCase()] = value;
  return {
    address: address(flags.addr),
    authority: '',
    tls: flags.tls
      ? {
          caPem: readFlagFile('tls-ca-cert', flags.tlsCaCert),
          certChainPem: readFlagFile('tls-client-cert', flags.tlsClientCert),
          privateKeyPem: readFlagFile('tls-client-key', flags.tlsClientKey),
          serverName: flags.tlsServerName,
          insecureSkipVerify: flags.tlsNoVerify,
        }
      : undefined,
    // One call: no pings needed.
    keepalive: { timeMs: 3_600_000, timeoutMs: 20_000, permitWithoutCalls: false },
    metadata,
    userAgent: flags.userAgent,
  };
}

/** Waits until the channel is READY, or gives up at the deadline or on TRANSIENT_FAILURE. */
function connect(client: Client, timeoutMs: number): Promise<'ready' | 'failed' | 'timeout'> {
  const channel = client.getChannel();
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve) => {
    const check = () => {
      const state = channel.getConnectivityState(true);
      if (state === connectivityState.READY) return resolve('ready');
      if (state === connectivityState.TRANSIENT_FAILURE || state === connectivityState.SHUTDOWN)
        return resolve('failed');
      channel.watchConnectivityState(state, deadline, (err) => (err ? resolve('timeout') : check()));
    };
    check();
  });
}

const NO_CONNECTION_EVENTS: ConnectionObserver = {
  channelState: () => {},
  connectAttempt: () => {},
  disconnect: () => {},
  tlsCertExpiry: () => {},
};

/** Go's status error as grpc_health_probe prints it with %+v. */
function goStatusError(code: number, details: string): string {
  return `rpc error: code = ${GRPC_CODE_LABELS[code] ?? `Code(${code})`} desc = ${details}`;
}

/** Runs the check, writes grpc_health_probe's messages to `err`, returns the exit code. */
export async function runCheck(
  argv: string[],
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  let flags: CheckFlags;
  let target: ChannelSpec;
  try {
    flags = parseCheckFlags(argv);
    if (flags.help) {
      out.write(CHECK_USAGE);
      return 0;
    }
    if (flags.version) {
      out.write(`grpc-pulse check ${VERSION} (grpc_health_probe compatible)\n`);
      return 0;
    }
    target = channelSpecOf(flags);
  } catch (e) {
    if (!(e instanceof BadArguments)) throw e;
    err.write(`${e.message}\n${e.usage ? CHECK_USAGE : ''}`);
    return CHECK_EXIT.badArguments;
  }
  const log = (line: string) => err.write(`${line}\n`);
  if (flags.verbose) {
    log('parsed options:');
    log(
      `> addr=${flags.addr} conn_timeout=${formatGoDuration(flags.connectTimeoutMs)} rpc_timeout=${formatGoDuration(flags.rpcTimeoutMs)}`,
    );
    if (flags.rpcHeaders.length > 0) log(`> headers: ${flags.rpcHeaders.map(([k]) => k).join(', ')}`);
    log(`> tls=${flags.tls}`);
    if (flags.tls) {
      log(`  > no-verify=${flags.tlsNoVerify} `);
      log(`  > ca-cert=${flags.tlsCaCert}`);
      log(`  > client-cert=${flags.tlsClientCert}`);
      log(`  > client-key=${flags.tlsClientKey}`);
      log(`  > server-name=${flags.tlsServerName}`);
    }
  }
  // grpc-js's own messages must not reach stderr; its traces feed the classifier's evidence.
  traceTap.install();
  const channel = createChannel(target, flags.gzip ? { 'grpc.default_compression_algorithm': GZIP } : {});
  const client = new Client(target.address, credentials.createInsecure(), { channelOverride: channel });
  const watcher = new ConnectionWatcher('check', channel, NO_CONNECTION_EVENTS, pino({ enabled: false }), 0);
  watcher.start();
  const door = new FailureEvidenceCollector(target.address, target.tls, watcher);
  const metadata = buildMetadata(target.metadata);
  try {
    if (flags.verbose) log('establishing connection');
    const connStart = performance.now();
    const connected = await connect(client, flags.connectTimeoutMs);
    const connMs = performance.now() - connStart;
    if (connected !== 'ready') {
      // One fail-fast call gives grpc-js's last connection error as evidence (in TRANSIENT_FAILURE it
      // fails at once with it; still CONNECTING, it ends "Waiting for LB pick").
      const outcome = await callUnary(
        client,
        HEALTH_CHECK,
        { service: flags.service },
        // After TRANSIENT_FAILURE the call fails at once with the last error; the longer budget only
        // covers a channel that went back to CONNECTING meanwhile (pick_first retrying).
        {
          deadlineMs: connected === 'failed' ? FAILED_EVIDENCE_MS : FAIL_FAST_MS,
          metadata,
          signal: new AbortController().signal,
        },
      );
      const code = outcome.kind === 'error' ? outcome.code : Status.DEADLINE_EXCEEDED;
      const details = outcome.kind === 'error' ? outcome.details : 'connection not ready';
      const reason = await door.classify({
        code,
        details,
        connected: false,
        ...(outcome.kind === 'error' ? { call: outcome.evidence, unary: true } : {}),
      });
      if (connected === 'timeout' && reason === 'connect_timeout')
        log(
          `timeout: failed to connect service "${flags.addr}" within ${formatGoDuration(flags.connectTimeoutMs)} (reason: ${reason})`,
        );
      else log(`error: failed to connect service at "${flags.addr}": ${details} (reason: ${reason})`);
      return CHECK_EXIT.connectionFailure;
    }
    if (flags.verbose) log(`connection established (took ${formatGoDuration(Math.round(connMs))})`);
    const rpcStart = performance.now();
    const outcome = await callUnary(
      client,
      HEALTH_CHECK,
      { service: flags.service },
      { deadlineMs: flags.rpcTimeoutMs, metadata, signal: new AbortController().signal },
    );
    const rpcMs = performance.now() - rpcStart;
    if (outcome.kind === 'cancelled') return CHECK_EXIT.rpcFailure;
    if (outcome.kind === 'error') {
      // grpc.health.v1: NOT_FOUND is Check's answer for a service the server does not know.
      const healthStatus = outcome.code === Status.NOT_FOUND ? ('SERVICE_UNKNOWN' as const) : undefined;
      const reason = await door.classify({
        code: outcome.code,
        details: outcome.details,
        call: outcome.evidence,
        unary: true,
        ...(healthStatus ? { healthStatus } : {}),
      });
      const suffix = ` (reason: ${reason})`;
      if (reason === 'unimplemented')
        log(
          `error: this server does not implement the grpc health protocol (grpc.health.v1.Health): ${outcome.details}${suffix}`,
        );
      else if (outcome.code === Status.DEADLINE_EXCEEDED)
        log(`timeout: health rpc did not complete within ${formatGoDuration(flags.rpcTimeoutMs)}${suffix}`);
      else log(`error: health rpc failed: ${goStatusError(outcome.code, outcome.details)}${suffix}`);
      return CHECK_EXIT.rpcFailure;
    }
    const status = toHealthStatus(outcome.response.status);
    if (status !== 'SERVING') {
      log(`service unhealthy (responded with "${status}")`);
      return CHECK_EXIT.notServing;
    }
    if (flags.verbose)
      log(
        `time elapsed: connect=${formatGoDuration(Math.round(connMs))} rpc=${formatGoDuration(Math.round(rpcMs))}`,
      );
    log(`status: ${status}`);
    return CHECK_EXIT.serving;
  } finally {
    watcher.markClosing();
    client.close();
  }
}
