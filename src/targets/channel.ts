// One grpc-js channel per target, built from a ChannelSpec: address, credentials (TLS, mTLS), keepalive,
// authority. The channel is never shared (grpc.use_local_subchannel_pool), so one target's failures
// cannot hide behind, or leak into, another's connection.

import { Channel, type ChannelOptions, credentials, Metadata } from '@grpc/grpc-js';
import { isBinaryKey } from '../config/metadata.js';
import type { TargetConfig } from '../config/schema.js';
import { type MetadataValue, revealValue, Secret } from '../config/secret.js';
import { VERSION } from '../version.js';

/** TLS material as PEM text (not file names: the config loader has read the files already). */
export interface TlsSpec {
  /** CA bundle to verify the server with; '' for the system roots. */
  caPem: string;
  /** Client certificate chain and its private key (mTLS); both '' or both set. */
  certChainPem: string;
  privateKeyPem: string;
  /** Name to verify the server certificate against; '' for the address's host. */
  serverName: string;
  insecureSkipVerify: boolean;
}

/** Everything a channel is built from: the run loop, `check` and `diagnose` all build one of these. */
export interface ChannelSpec {
  /** A grpc-js target: host:port, dns:///..., unix:... */
  address: string;
  /** :authority to send; '' for grpc-js's default (the address). */
  authority: string;
  /** undefined for plaintext. */
  tls: TlsSpec | undefined;
  keepalive: { timeMs: number; timeoutMs: number; permitWithoutCalls: boolean };
  /** Metadata sent with every call on the channel; probes may add their own. */
  metadata: Readonly<Record<string, MetadataValue>>;
  /** Replaces `grpc-pulse/<version>` as the user agent. */
  userAgent?: string;
  /** Cap of grpc-js's reconnect backoff (default 30 s). */
  maxReconnectBackoffMs?: number;
}

/** The ChannelSpec of a configured target (its tls.*_file keys hold the files' contents). */
export function channelSpec(target: TargetConfig): ChannelSpec {
  const tls = target.tls;
  return {
    address: target.address,
    authority: target.authority,
    tls: tls && {
      caPem: tls.ca_file,
      certChainPem: tls.cert_file,
      privateKeyPem: tls.key_file,
      serverName: tls.server_name,
      insecureSkipVerify: tls.insecure_skip_verify,
    },
    keepalive: target.keepalive,
    metadata: target.metadata,
    maxReconnectBackoffMs: target.maxReconnectBackoffMs,
  };
}

export const DEFAULT_MAX_RECONNECT_BACKOFF_MS = 30_000;

/** The host of an :authority ("orders.example:443" → "orders.example", "[::1]:443" → "::1"). */
export function authorityHost(authority: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(authority);
  if (bracketed) return bracketed[1] ?? '';
  return authority.replace(/:\d+$/, '');
}

function channelOptions(spec: ChannelSpec): ChannelOptions {
  const options: ChannelOptions = {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.primary_user_agent': spec.userAgent ?? `grpc-pulse/${VERSION}`,
    // grpc-js sends no keepalive pings unless told to; a sidecar must notice a frozen link.
    'grpc.keepalive_time_ms': spec.keepalive.timeMs,
    'grpc.keepalive_timeout_ms': spec.keepalive.timeoutMs,
    'grpc.keepalive_permit_without_calls': spec.keepalive.permitWithoutCalls ? 1 : 0,
    // Reconnect promptly after an outage (grpc-js defaults: 1 s initial, 120 s cap).
    'grpc.initial_reconnect_backoff_ms': 1000,
    'grpc.max_reconnect_backoff_ms': spec.maxReconnectBackoffMs ?? DEFAULT_MAX_RECONNECT_BACKOFF_MS,
    // A probe must see the raw outcome of each attempt, not one hidden by transparent retries.
    'grpc.enable_retries': 0,
  };
  if (spec.authority !== '') options['grpc.default_authority'] = spec.authority;
  // The name the certificate must carry: server_name, else the authority (as grpc-go does when no
  // server name is set), else grpc-js's default, the address's host.
  const tlsName = spec.tls ? spec.tls.serverName || authorityHost(spec.authority) : '';
  if (tlsName) options['grpc.ssl_target_name_override'] = tlsName;
  return options;
}

function channelCredentials(tls: TlsSpec | undefined) {
  if (!tls) return credentials.createInsecure();
  const pem = (text: string) => (text === '' ? null : Buffer.from(text));
  return credentials.createSsl(
    pem(tls.caPem),
    pem(tls.privateKeyPem),
    pem(tls.certChainPem),
    tls.insecureSkipVerify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

/** extra: grpc-js channel arguments on top (check's -gzip sets the default compression). */
export function createChannel(spec: ChannelSpec, extra: ChannelOptions = {}): Channel {
  return new Channel(spec.address, channelCredentials(spec.tls), { ...channelOptions(spec), ...extra });
}

/**
 * The channel's metadata merged with a probe's own (the probe wins), secrets revealed only here.
 * `-bin` values are kept in base64 in the config and sent as the bytes they encode.
 */
export function buildMetadata(...sources: Readonly<Record<string, MetadataValue>>[]): Metadata {
  const metadata = new Metadata();
  for (const source of sources) {
    for (const [key, value] of Object.entries(source)) {
      const text = revealValue(value);
      metadata.set(key, isBinaryKey(key) ? Buffer.from(text, 'base64') : text);
    }
  }
  return metadata;
}

/**
 * Metadata for every call of one probe: built once, rebuilt only when a `from_file` secret in it
 * was rotated (Secret.version), and cloned per call, as grpc-js may add to what it is given.
 */
export function metadataSource(...sources: Readonly<Record<string, MetadataValue>>[]): () => Metadata {
  const secrets = sources.flatMap((s) => Object.values(s)).filter((v): v is Secret => v instanceof Secret);
  const versionOf = () => secrets.reduce((sum, s) => sum + s.version, 0);
  let version = versionOf();
  let metadata = buildMetadata(...sources);
  return () => {
    const now = versionOf();
    if (now !== version) {
      version = now;
      metadata = buildMetadata(...sources);
    }
    return metadata.clone();
  };
}
