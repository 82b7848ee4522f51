// One grpc-js channel per target, built from its config: credentials (TLS, mTLS), keepalive, authority.
// The channel is never shared (grpc.use_local_subchannel_pool), so one target's failures cannot hide
// behind, or leak into, another's connection.

import { Channel, type ChannelOptions, credentials, Metadata } from '@grpc/grpc-js';
import { isBinaryKey } from '../config/metadata.js';
import type { TargetConfig } from '../config/schema.js';
import { type MetadataValue, revealValue, Secret } from '../config/secret.js';
import { VERSION } from '../version.js';

/** Channel arguments for a target; exported so tests and the one-shot check build the same channel. */
export function channelOptions(target: TargetConfig): ChannelOptions {
  const options: ChannelOptions = {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.primary_user_agent': `grpc-pulse/${VERSION}`,
    // grpc-js sends no keepalive pings unless told to; a sidecar must notice a frozen link.
    'grpc.keepalive_time_ms': target.keepalive.timeMs,
    'grpc.keepalive_timeout_ms': target.keepalive.timeoutMs,
    'grpc.keepalive_permit_without_calls': target.keepalive.permitWithoutCalls ? 1 : 0,
    // Reconnect promptly after an outage (grpc-js defaults: 1 s initial, 120 s cap).
    'grpc.initial_reconnect_backoff_ms': 1000,
    'grpc.max_reconnect_backoff_ms': 30_000,
    // A probe must see the raw outcome of each attempt, not one hidden by transparent retries.
    'grpc.enable_retries': 0,
  };
  if (target.authority !== '') options['grpc.default_authority'] = target.authority;
  if (target.tls?.server_name) options['grpc.ssl_target_name_override'] = target.tls.server_name;
  return options;
}

function channelCredentials(target: TargetConfig) {
  const tls = target.tls;
  if (!tls) return credentials.createInsecure();
  const pem = (text: string) => (text === '' ? null : Buffer.from(text));
  return credentials.createSsl(
    pem(tls.ca_file),
    pem(tls.key_file),
    pem(tls.cert_file),
    tls.insecure_skip_verify ? { rejectUnauthorized: false, checkServerIdentity: () => undefined } : {},
  );
}

export function createChannel(target: TargetConfig, overrides: ChannelOptions = {}): Channel {
  return new Channel(target.address, channelCredentials(target), { ...channelOptions(target), ...overrides });
}

/**
 * The target's metadata merged with a probe's own (the probe wins), secrets revealed only here.
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
