// `grpc-pulse diagnose` takes the address forms a target's `address` has: the ipv4:/ipv6: schemes of a
// config diagnose one address (a list is refused with a clear message), and stray spaces are an
// argument error rather than a DNS failure.

import { afterEach, describe, expect, it } from 'vitest';
import { DiagnoseUsageError, parseAddress, parseDiagnoseArgs } from '../src/diagnose/args.js';
import { diagnoseJson } from './harness/diagnose-run.js';
import { DiagnoseGrpcServer } from './harness/diagnose-servers.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0)) await close();
});

describe('grpc-pulse diagnose: address forms', () => {
  it("a config's ipv4: address reaches a real server: every layer ok, exit 0", async () => {
    const server = await new DiagnoseGrpcServer({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => server.stop());
    const run = await diagnoseJson([`ipv4:127.0.0.1:${server.port}`]);
    expect(run.step('tcp').detail).toBe(`127.0.0.1:${server.port} connected`);
    expect(run.step('health-check').status).toBe('ok');
    expect(run.code).toBe(0);
  });

  it('parses ipv4:/ipv6: to one host and port; lists, wrong families and spaces are argument errors', () => {
    expect(parseAddress('ipv4:10.0.0.1:50051')).toEqual({ host: '10.0.0.1', port: 50051 });
    expect(parseAddress('ipv6:[::1]:50051')).toEqual({ host: '::1', port: 50051 });
    for (const [address, message] of [
      [
        'ipv4:10.0.0.1:1,10.0.0.2:1',
        /one address at a time: run it for each of 10\.0\.0\.1:1, 10\.0\.0\.2:1/,
      ],
      ['ipv4:[::1]:1', /"::1" in "ipv4:\[::1\]:1" is not an IPv4 address/],
      ['ipv6:127.0.0.1:1', /"127\.0\.0\.1" in "ipv6:127\.0\.0\.1:1" is not an IPv6 address/],
      ['ipv4:10.0.0.1', /must be host:port/],
      [' 127.0.0.1:1', /spaces around it/],
      ['127.0.0.1:1\n', /spaces around it/],
    ] as const) {
      expect(() => parseAddress(address), address).toThrow(DiagnoseUsageError);
      expect(() => parseAddress(address), address).toThrow(message);
    }
  });

  it('names duration limits as the usage does (1h, not 3600s)', () => {
    expect(() => parseDiagnoseArgs(['x:1', '--idle-test', '2h'])).toThrow(
      '--idle-test must be at most 1h, got "2h"',
    );
    expect(() => parseDiagnoseArgs(['x:1', '--ping-test', '--ping-budget', '61m'])).toThrow(
      '--ping-budget must be at most 1h, got "61m"',
    );
    expect(() => parseDiagnoseArgs(['x:1', '--rpc-timeout', '2m'])).toThrow(
      '--rpc-timeout must be at most 1m, got "2m"',
    );
  });
});
