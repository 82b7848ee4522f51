// A grpc-js client for the health and reflection steps, pinned to the endpoint the raw steps used
// (its IP, with the ADDRESS's host as :authority and TLS name) and built like a target's channel.

import { isIP } from 'node:net';
import { Client, credentials, type Metadata } from '@grpc/grpc-js';
import { buildMetadata, type ChannelSpec, createChannel } from '../targets/channel.js';
import type { DiagnoseOptions } from './args.js';
import { type Endpoint, tlsName } from './endpoint.js';
import { hostPortOf } from './tcp-step.js';

export interface DiagnoseClient {
  client: Client;
  metadata: () => Metadata;
  close: () => void;
}

export function diagnoseClient(endpoint: Endpoint, options: DiagnoseOptions): DiagnoseClient {
  const address =
    endpoint.path !== undefined ? `unix:${endpoint.path}` : hostPortOf(endpoint.ip, endpoint.port);
  const tls = endpoint.tls;
  const spec: ChannelSpec = {
    address,
    authority:
      endpoint.path === undefined && isIP(endpoint.host) === 0 ? `${endpoint.host}:${endpoint.port}` : '',
    tls: tls && {
      caPem: tls.caPem,
      certChainPem: tls.certPem,
      privateKeyPem: tls.keyPem,
      serverName: tlsName(endpoint),
      insecureSkipVerify: tls.insecure,
    },
    // A handful of calls: no keepalive pings (they would muddle the ping test's server strikes).
    keepalive: { timeMs: 3_600_000, timeoutMs: 20_000, permitWithoutCalls: false },
    metadata: options.metadata,
  };
  const client = new Client(address, credentials.createInsecure(), { channelOverride: createChannel(spec) });
  return { client, metadata: () => buildMetadata(spec.metadata), close: () => client.close() };
}
