// Asks an address whether it speaks TLS, by trying a handshake (no verification). Used only after a
// plaintext channel failed to connect, to tell "plaintext client, TLS server" from a dropped connection.

import { connect } from 'node:tls';

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
