// `grpc-pulse diagnose` against hand-written peers the layer tests do not cover: an HTTP/2 peer that
// sends SETTINGS but never answers a PING, and a peer that answers the preface with random bytes.
// Both are failures this client saw on its own socket: transport reasons, never a server's status.

import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { diagnoseJson, expectDocs } from './harness/diagnose-run.js';
import { listenLoopback } from './harness/listen.js';

const sockets = new Set<Socket>();
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  for (const close of closers.splice(0)) await close();
});

/** A TCP server that writes `greeting` on accept and then reads and ignores everything. */
async function rawPeer(greeting: Buffer): Promise<string> {
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', () => {});
    socket.write(greeting);
  });
  const port = await listenLoopback(server);
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  return `127.0.0.1:${port}`;
}

/** An HTTP/2 frame: 3-byte length, type, flags, 4-byte stream id, payload. */
function frame(type: number, flags: number, payload = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head.writeUInt8(type, 3);
  head.writeUInt8(flags, 4);
  return Buffer.concat([head, payload]);
}

describe('grpc-pulse diagnose: hand-written peers', () => {
  it('an HTTP/2 peer that never answers a PING: http2 fails deadline_exceeded (not a server status), exit 2', async () => {
    // SETTINGS (empty) and an ACK of ours: the session is up; the PINGs that follow go unanswered.
    const address = await rawPeer(Buffer.concat([frame(0x4, 0), frame(0x4, 0x1)]));
    const run = await diagnoseJson([address, '--connect-timeout', '1s', '--rpc-timeout', '1s']);
    const http2 = run.step('http2');
    expect(http2.status).toBe('fail');
    expect(http2.detail).toMatch(/^deadline_exceeded: SETTINGS .*no PING answered within 1000 ms$/);
    expectDocs(http2, 'deadline_exceeded');
    expect(run.code).toBe(2);
  });

  it('a peer that answers the preface with garbage: http2 fails with a transport reason, exit 2', async () => {
    const address = await rawPeer(Buffer.from('\x00\x00\x07\xffgarbage garbage garbage\r\n', 'latin1'));
    const run = await diagnoseJson([address, '--connect-timeout', '1s', '--rpc-timeout', '1s']);
    const http2 = run.step('http2');
    expect(http2.status).toBe('fail');
    expect(http2.detail).toMatch(/^(protocol_error|connection_closed): /);
    expect(run.code).toBe(2);
  });
});
