// Asks an address about TLS after a channel failed to connect: whether it speaks TLS at all (a plaintext
// channel meeting a TLS server), and whether a handshake with the channel's own credentials fails (a
// TLS channel whose client certificate is missing or rejected, or whose peer speaks plaintext).

import { isIP } from 'node:net';
import { checkServerIdentity, connect, type PeerCertificate } from 'node:tls';

/** host:port of a plain, ipv4: or ipv6: address; undefined for dns:, unix: and anything resolved by name. */
export function sniffableHostPort(address: string): { host: string; port: number } | undefined {
  const bare = address.replace(/^ipv[46]:/, '');
  const match = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):(\d+)$/.exec(bare);
  if (!match) return undefined;
  return { host: (match[1] ?? '').replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) };
}

/** Resolves true if a TLS handshake with host:port completes within timeoutMs. Never rejects. */
export function speaksTls(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const done = (result: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    timer.unref();
    socket.once('secureConnect', () => done(true));
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** The client side of a TLS handshake: what the target's channel would present and verify. */
export interface TlsClientOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  servername?: string;
  rejectUnauthorized: boolean;
}

/** The HTTP/2 client preface and an empty SETTINGS frame (RFC 9113 §3.4). */
const H2_PREFACE = Buffer.concat([
  Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'),
  Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0]),
]);

/**
 * Tries the handshake a TLS channel makes, then sends the HTTP/2 preface: true if TLS fails (an error
 * during the handshake, or an alert after it, as TLS 1.3 servers send when they reject a client
 * certificate), false if the server answers over TLS, undefined if it says nothing either way.
 * Never rejects.
 */
export function tlsHandshakeFails(
  host: string,
  port: number,
  options: TlsClientOptions,
  timeoutMs: number,
): Promise<boolean | undefined> {
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port,
      ALPNProtocols: ['h2'],
      rejectUnauthorized: options.rejectUnauthorized,
      ...(options.ca ? { ca: options.ca } : {}),
      ...(options.cert ? { cert: options.cert } : {}),
      ...(options.key ? { key: options.key } : {}),
      // Node refuses an IP address as SNI (DEP0123); verification still checks it against the cert.
      ...(options.servername && !isIP(options.servername) ? { servername: options.servername } : {}),
      ...(options.servername ? { checkServerIdentity: serverIdentity(options.servername) } : {}),
    });
    const done = (result: boolean | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    timer.unref();
    socket.once('secureConnect', () => socket.write(H2_PREFACE));
    socket.once('data', () => done(false));
    socket.once('error', () => done(true));
    socket.once('close', () => done(undefined));
  });
}

function serverIdentity(name: string) {
  return (_host: string, cert: PeerCertificate) => checkServerIdentity(name, cert);
}
