// `grpc-pulse diagnose` against peers the layer tests do not cover: an HTTP/2 peer that sends SETTINGS
// but never answers a PING, and a peer that answers the preface with random bytes (failures this client
// saw on its own socket: transport reasons, never a server's status); a gRPC server whose status
// message carries terminal escapes and pages of text (the table prints neither raw).

import { createServer, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterEach, describe, expect, it } from 'vitest';
import { runDiagnose } from '../src/diagnose/diagnose-command.js';
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

  it('a status message with terminal escapes and 6,000 characters: the table escapes them and stays short, --json keeps all', async () => {
    const evil = `\u001b[2J\u001b]0;owned\u0007\u202eevil\u0000 ${'x'.repeat(6000)}`;
    const definition = protoLoader.loadSync('node_modules/grpc-health-check/proto/health/v1/health.proto');
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const health = loaded.grpc.health.v1.Health;
    const server = new grpc.Server();
    server.addService(health.service, {
      Check: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
        callback({ code: grpc.status.INTERNAL, details: evil }),
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    closers.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    let table = '';
    const out = new Writable({
      write(chunk, _encoding, callback) {
        table += String(chunk);
        callback();
      },
    });
    const code = await runDiagnose([`127.0.0.1:${port}`], out, out);
    expect(code).toBe(3);
    expect(table).toMatch(
      /health-check +fail .*rpc_error: INTERNAL: \\u001b\[2J\\u001b\]0;owned\\u0007\\u202eevil\\u0000 x+… \(\d+ more characters: --json has all\)\n/,
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters that must not be printed.
    expect(table).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    for (const line of table.split('\n')) expect(line.length).toBeLessThan(600);
    const json = await diagnoseJson([`127.0.0.1:${port}`]);
    expect(json.step('health-check').detail).toBe(`rpc_error: INTERNAL: ${evil}`);
  });
});
