// The one backend address every step after DNS and TCP talks to, and the sockets to it: plain TCP or
// TLS with the ADDRESS's host as SNI and verification name, as grpc-js would use them.

import { isIP, Socket } from 'node:net';
import { type ConnectionOptions, type TLSSocket, connect as tlsConnect } from 'node:tls';
import type { DiagnoseTls } from './args.js';

export interface Endpoint {
  ip: string;
  port: number;
  /** A Unix socket path instead of ip and port. */
  path?: string;
  /** The host of ADDRESS: the `:authority`, and the TLS name unless --tls-server-name says otherwise. */
  host: string;
  tls?: DiagnoseTls;
}

/** The `:authority` of calls on this endpoint (grpc-js uses "localhost" for a Unix socket). */
export function authorityOf(endpoint: Endpoint): string {
  if (endpoint.path !== undefined) return 'localhost';
  return `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
}

/** The name the server certificate must carry. */
export function tlsName(endpoint: Endpoint): string {
  return endpoint.tls?.serverName || endpoint.host;
}

export function tlsConnectOptions(endpoint: Endpoint, alpn: string[], verify: boolean): ConnectionOptions {
  const tls = endpoint.tls;
  const name = tlsName(endpoint);
  const pem = (text: string | undefined) => (text ? Buffer.from(text) : undefined);
  return {
    ...(endpoint.path !== undefined ? { path: endpoint.path } : { host: endpoint.ip, port: endpoint.port }),
    // SNI must be a host name (RFC 6066 §3), never an IP literal.
    ...(isIP(name) === 0 ? { servername: name } : {}),
    ALPNProtocols: alpn,
    ...(pem(tls?.caPem) ? { ca: pem(tls?.caPem) } : {}),
    ...(pem(tls?.certPem) ? { cert: pem(tls?.certPem), key: pem(tls?.keyPem) } : {}),
    rejectUnauthorized: verify && tls?.insecure !== true,
    ...(tls?.insecure ? { checkServerIdentity: () => undefined } : {}),
  };
}

export type Opened<S> = { socket: S } | { error: string; timeout: boolean };

/** Connects (and handshakes, with TLS) within `timeoutMs`; never throws. */
export function openSocket(
  endpoint: Endpoint,
  timeoutMs: number,
  alpn: string[] = ['h2'],
  verify = true,
): Promise<Opened<Socket | TLSSocket>> {
  return new Promise((resolve) => {
    const socket: Socket = endpoint.tls
      ? tlsConnect(tlsConnectOptions(endpoint, alpn, verify))
      : endpoint.path !== undefined
        ? new Socket().connect({ path: endpoint.path })
        : new Socket().connect({ host: endpoint.ip, port: endpoint.port });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ error: `no connection within ${timeoutMs} ms`, timeout: true });
    }, timeoutMs);
    const onError = (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ error: err.message || String(err.code), timeout: false });
    };
    socket.once('error', onError);
    socket.once(endpoint.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      // Later errors are the caller's to observe; one listener keeps them from throwing.
      socket.on('error', () => {});
      resolve({ socket });
    });
  });
}
