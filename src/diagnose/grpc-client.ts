// A grpc-js client for the health and reflection steps, pinned to the endpoint the raw steps used
// (its IP, with the ADDRESS's host as :authority and TLS name) and built like a target's channel.

import { isIP } from 'node:net';
import { Client, credentials, type Metadata } from '@grpc/grpc-js';
import type { TargetConfig } from '../config/schema.js';
import { buildMetadata, createChannel } from '../targets/channel.js';
import type { DiagnoseOptions } from './args.js';
import { type Endpoint, tlsName } from './endpoint.js';
import { hostPortOf } from './tcp-step.js';

export interface DiagnoseClient {
  client: Client;
  metadata: () => Metadata;
  close: () => void;
}

export function diagnoseClient(endpoint: Endpoint, options: DiagnoseOptions): DiagnoseClient {
  const address = hostPortOf(endpoint.ip, endpoint.port);
  const tls = endpoint.tls;
  const target: TargetConfig = {
    name: 'diagnose',
    address,
    authority: isIP(endpoint.host) === 0 ? `${endpoint.host}:${endpoint.port}` : '',
    tls: tls
      ? {
          enabled: true,
          ca_file: tls.caPem,
          cert_file: tls.certPem,
          key_file: tls.keyPem,
          server_name: tlsName(endpoint),
          insecure_skip_verify: tls.insecure,
        }
      : undefined,
    metadata: options.metadata,
    timeoutMs: options.rpcTimeoutMs,
    intervalMs: options.rpcTimeoutMs * 2,
    startupGraceMs: 0,
    // A handful of calls: no keepalive pings (they would muddle the ping test's server strikes).
    keepalive: { timeMs: 3_600_000, timeoutMs: 20_000, permitWithoutCalls: false },
    health: [],
    rpcs: [],
  };
  const channel = createChannel(target);
  const client = new Client(address, credentials.createInsecure(), { channelOverride: channel });
  return { client, metadata: () => buildMetadata(options.metadata), close: () => client.close() };
}
