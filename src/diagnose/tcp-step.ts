// Step "tcp", once per resolved address: a plain TCP connect with the connect timeout. Refused, timed
// out and reset are told apart by the socket's own error (ECONNREFUSED, no answer, ECONNRESET).

import { Socket } from 'node:net';
import { status as Status } from '@grpc/grpc-js';
import type { ResolvedAddress } from './dns-step.js';
import { failed, step, stopwatch } from './step.js';
import type { StepResult } from './types.js';

/** Most addresses connected to (a name with hundreds of records is bounded). */
export const MAX_TCP_ADDRESSES = 16;

export function hostPortOf(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

type Connected = { ok: true } | { ok: false; timeout: boolean; message: string };

function connectOnce(ip: string, port: number, timeoutMs: number): Promise<Connected> {
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
      resolve({ ok: false, timeout: false, message: `connect ${err.code ?? err.message}` });
    });
    socket.connect({ host: ip, port });
  });
}

export async function tcpSteps(
  addresses: ResolvedAddress[],
  port: number,
  timeoutMs: number,
): Promise<StepResult[]> {
  const steps = await Promise.all(
    addresses.slice(0, MAX_TCP_ADDRESSES).map(async ({ ip }) => {
      const elapsed = stopwatch();
      const target = hostPortOf(ip, port);
      const result = await connectOnce(ip, port, timeoutMs);
      if (result.ok) return step('tcp', 'ok', elapsed(), `${target} connected`);
      return failed(
        'tcp',
        elapsed(),
        `${target}: ${result.message}`,
        'connection',
        result.timeout
          ? { code: Status.DEADLINE_EXCEEDED, details: result.message, connected: false }
          : { details: result.message, connected: false },
      );
    }),
  );
  if (addresses.length > MAX_TCP_ADDRESSES) {
    steps.push(step('tcp', 'warn', 0, `${addresses.length - MAX_TCP_ADDRESSES} more addresses not tried`));
  }
  return steps;
}
