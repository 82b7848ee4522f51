// `fan_out` and ipv4:/ipv6: address lists in the config (SPEC "Config"): what validate accepts, the
// defaults it fills, and the exact message of each mistake.

import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../src/config/load.js';

function parse(targetYaml: string) {
  return parseConfigText(`targets:\n${targetYaml}`, 'fan.yaml', { baseDir: process.cwd(), env: {} });
}

function errorOf(targetYaml: string): string {
  try {
    parse(targetYaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('the config loaded without error');
}

describe('fan_out config', () => {
  it('fills refresh 30s and max_backends 64 when fan_out is {}', () => {
    const [target] = parse('  - { name: a, address: "dns:///orders.svc:50051", fan_out: {} }\n').targets;
    expect(target?.fanOut).toEqual({ refreshMs: 30_000, maxBackends: 64 });
  });

  it('takes refresh and max_backends as given', () => {
    const [target] = parse(
      '  - { name: a, address: "orders.svc:50051", fan_out: { refresh: 1m30s, max_backends: 3 } }\n',
    ).targets;
    expect(target?.fanOut).toEqual({ refreshMs: 90_000, maxBackends: 3 });
  });

  it('leaves targets without fan_out as they were', () => {
    const [target] = parse('  - { name: a, address: "orders.svc:50051" }\n').targets;
    expect(target && 'fanOut' in target).toBe(false);
  });

  it.each([
    [
      '{ refresh: 100ms }',
      'fan.yaml:2: targets[0].fan_out.refresh: refresh 100ms is too short (at least 1s)',
    ],
    [
      '{ refresh: soon }',
      'fan.yaml:2: targets[0].fan_out.refresh: invalid duration "soon" (expected Prometheus units such as 500ms, 10s, 1m30s)',
    ],
    ['{ max_backends: 0 }', 'fan.yaml:2: targets[0].fan_out.max_backends: must be at least 1'],
    ['{ max_backends: 2.5 }', 'fan.yaml:2: targets[0].fan_out.max_backends: expected a whole number'],
    ['{ max_backends: 5000 }', 'fan.yaml:2: targets[0].fan_out.max_backends: must be at most 1024'],
    ['{ refesh: 1s }', 'fan.yaml:2: targets[0].fan_out.refesh: unknown key "refesh"'],
  ])('rejects fan_out %s', (fanOut, message) => {
    expect(errorOf(`  - { name: a, address: "orders.svc:50051", fan_out: ${fanOut} }\n`)).toBe(message);
  });

  it('rejects fan_out on a unix socket', () => {
    expect(errorOf('  - { name: a, address: "unix:/run/a.sock", fan_out: {} }\n')).toBe(
      'fan.yaml:2: targets[0].fan_out: fan_out needs a DNS name or an ipv4:/ipv6: address list, not a unix socket',
    );
  });
});

describe('address lists and DNS servers', () => {
  it.each([
    'ipv4:127.0.0.2:50051,127.0.0.3:50051',
    'ipv4:10.0.0.1:1',
    'ipv6:[::1]:50051,[fd00::2]:50052',
    'dns://127.0.0.1:5353/orders.svc:50051',
    'dns://[::1]:53/orders.svc:50051',
    'dns://10.0.0.10/orders.svc:50051',
  ])('accepts %s with and without fan_out', (address) => {
    expect(parse(`  - { name: a, address: "${address}" }\n`).targets[0]?.address).toBe(address);
    expect(parse(`  - { name: a, address: "${address}", fan_out: {} }\n`).targets[0]?.fanOut).toBeDefined();
  });

  it.each([
    [
      'ipv4:127.0.0.2:50051,orders:50051',
      '"orders:50051" in "ipv4:127.0.0.2:50051,orders:50051" is not an IPv4 address with a port (ipv4:10.0.0.1:50051,10.0.0.2:50051)',
    ],
    [
      'ipv4:127.0.0.2',
      '"127.0.0.2" in "ipv4:127.0.0.2" is not an IPv4 address with a port (ipv4:10.0.0.1:50051,10.0.0.2:50051)',
    ],
    [
      'ipv6:::1:50051',
      '"::1:50051" in "ipv6:::1:50051" is not an IPv6 address in brackets with a port (ipv6:[fd00::1]:50051)',
    ],
    [
      'ipv6:[127.0.0.1]:50051',
      '"[127.0.0.1]:50051" in "ipv6:[127.0.0.1]:50051" is not an IPv6 address in brackets with a port (ipv6:[fd00::1]:50051)',
    ],
    ['ipv4:10.0.0.1:0', 'port 0 in "10.0.0.1:0" cannot be dialled'],
    ['ipv4:10.0.0.1:80,10.0.0.1:80', 'address 10.0.0.1:80 is listed twice in "ipv4:10.0.0.1:80,10.0.0.1:80"'],
    ['ipv6:[::1]:80,[0:0::1]:80', 'address [::1]:80 is listed twice in "ipv6:[::1]:80,[0:0::1]:80"'],
    [
      'dns://kube-dns/orders.svc:50051',
      'DNS server "kube-dns" in "dns://kube-dns/orders.svc:50051" must be an IP address, optionally with a port',
    ],
  ])('rejects %s', (address, message) => {
    expect(errorOf(`  - { name: a, address: "${address}" }\n`)).toBe(
      `fan.yaml:2: targets[0].address: ${message}`,
    );
  });
});
