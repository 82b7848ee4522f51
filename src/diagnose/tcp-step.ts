// Step "tcp", once per resolved address: a plain TCP connect with the connect timeout. Refused, timed
// out and reset are told apart by the socket's own error (ECONNREFUSED, no answer, ECONNRESET).

import { Socket } from 'node:net';
import type { ResolvedAddress } from './dns-step.js';
import { failed, step, stopwatch, transportEvidence } from './step.js';
import type { StepResult } from './types.js';

/** Most addresses connected to (a name with hundreds of records is bounded). */
export const MAX_TCP_ADDRESSES = 16;

export function hostPortOf(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

function label({ ip, family }: ResolvedAddress, port: number): string {
  return family === 'unix' ? `unix:${ip}` : hostPortOf(ip, port);
}

type Connected = { ok: true } | { ok: false; timeout: boolean; message: string; code?: string };

function connectOnce(address: ResolvedAddress, port: number, timeoutMs: number): Promise<Connected> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ ok: false, timeout: true, message: `no answer within ${timeoutMs} ms` });
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok: true });
    });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({
        ok: false,
        timeout: false,
        message: `connect ${err.code ?? err.message}`,
        ...(err.code ? { code: err.code } : {}),
      });
    });
    if (address.family === 'unix') socket.connect({ path: address.ip });
    else socket.connect({ host: address.ip, port });
  });
}

export async function tcpSteps(
  addresses: ResolvedAddress[],
  port: number,
  timeoutMs: number,
): Promise<StepResult[]> {
  const steps = await Promise.all(
    addresses.slice(0, MAX_TCP_ADDRESSES).map(async (address) => {
      const elapsed = stopwatch();
      const target = label(address, port);
      const result = await connectOnce(address, port, timeoutMs);
      if (result.ok) return step('tcp', 'ok', elapsed(), `${target} connected`);
      return failed(
        'tcp',
        elapsed(),
        `${target}: ${result.message}`,
        'connection',
        // SPEC: a Unix socket that does not exist is connection_refused, like nothing listening.
        result.code === 'ENOENT'
          ? 'connection_refused'
          : transportEvidence(result.message, { timeout: result.timeout, connected: false }),
      );
    }),
  );
  if (addresses.length > MAX_TCP_ADDRESSES) {
    steps.push(step('tcp', 'warn', 0, `${addresses.length - MAX_TCP_ADDRESSES} more addresses not tried`));
  }
  return steps;
}
