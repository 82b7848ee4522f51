// Backend discovery for fan-out targets against a real DNS server on 127.0.0.1: A and AAAA records,
// sorted and de-duplicated; records changed at run time; a server that is down, silent or failing
// (the last good set is kept, one warning per transition); max_backends; answers too big for UDP.

import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { type BackendAddress, parseAddressSource } from '../src/config/address.js';
import { createLogger } from '../src/log.js';
import { BackendDiscovery } from '../src/targets/backend-discovery.js';
import { DnsServerResolver, SystemResolver, toBackends } from '../src/targets/resolve.js';
import { RecordsDnsServer } from './harness/dns-server.js';
import { waitFor } from './harness/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function dnsServer(): Promise<RecordsDnsServer> {
  const server = await new RecordsDnsServer().start();
  cleanups.push(() => server.close());
  return server;
}

/** A discovery loop on `address`, with its published sets and its log lines kept for assertions. */
function discover(
  address: string,
  options: { refreshMs?: number; maxBackends?: number; timeoutMs?: number } = {},
) {
  const logs: { level: number; msg: string; [key: string]: unknown }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
      done();
    },
  });
  const sets: string[][] = [];
  const source = parseAddressSource(address);
  if (typeof source === 'string') throw new Error(source);
  const discovery = new BackendDiscovery(source, {
    fanOut: { refreshMs: options.refreshMs ?? 1000, maxBackends: options.maxBackends ?? 64 },
    log: createLogger('debug', sink),
    timeoutMs: options.timeoutMs ?? 3000,
    onBackends: (backends: readonly BackendAddress[]) => sets.push(backends.map((b) => b.key)),
  });
  cleanups.push(() => discovery.close());
  discovery.start();
  const latest = () => sets.at(-1);
  return { discovery, sets, logs, latest };
}

describe('toBackends', () => {
  it('orders IPv4 numerically, then IPv6 by value, in canonical spelling, without duplicates', () => {
    const keys = toBackends(
      [
        'fd00::10',
        '127.0.0.10',
        '::1',
        '127.0.0.9',
        'fd00::9',
        '10.0.0.1',
        '0:0::1',
        'FD00::A',
        '::ffff:1.2.3.4',
      ],
      50051,
    ).map((b) => b.key);
    expect(keys).toEqual([
      '10.0.0.1:50051',
      '127.0.0.9:50051',
      '127.0.0.10:50051',
      '[::1]:50051',
      '[::ffff:102:304]:50051',
      '[fd00::9]:50051',
      '[fd00::a]:50051',
      '[fd00::10]:50051',
    ]);
  });
});

describe('DnsServerResolver', () => {
  it('asks the given server for A and AAAA records', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.4', '127.0.0.2'], aaaa: ['::1'] });
    const answer = await new DnsServerResolver(dns.address).resolve('orders.test', 3000);
    expect(answer).toEqual({
      v4: { ok: true, ips: ['127.0.0.4', '127.0.0.2'] },
      v6: { ok: true, ips: ['::1'] },
    });
    expect(dns.queries.A).toBeGreaterThanOrEqual(1);
    expect(dns.queries.AAAA).toBeGreaterThanOrEqual(1);
  });

  it('reads NXDOMAIN and NODATA as answers with no addresses, SERVFAIL as a failure', async () => {
    const dns = await dnsServer();
    dns.set('v4only.test', { a: ['127.0.0.2'] });
    const resolver = new DnsServerResolver(dns.address);
    expect(await resolver.resolve('v4only.test', 3000)).toEqual({
      v4: { ok: true, ips: ['127.0.0.2'] },
      v6: { ok: true, ips: [] },
    });
    expect(await resolver.resolve('missing.test', 3000)).toEqual({
      v4: { ok: true, ips: [] },
      v6: { ok: true, ips: [] },
    });
    dns.mode = 'servfail';
    const failed = await resolver.resolve('v4only.test', 3000);
    expect(failed.v4.ok || failed.v6.ok).toBe(false);
  });

  it('gives up on a silent server within its timeout', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.2'] });
    dns.mode = 'drop';
    const started = performance.now();
    const answer = await new DnsServerResolver(dns.address).resolve('orders.test', 600);
    expect(answer.v4).toEqual({ ok: false, error: 'ETIMEOUT' });
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('reads answers too large for UDP over TCP', async () => {
    const dns = await dnsServer();
    const many = Array.from({ length: 100 }, (_, i) => `10.1.${Math.floor(i / 250)}.${(i % 250) + 1}`);
    dns.set('big.test', { a: many });
    const answer = await new DnsServerResolver(dns.address).resolve('big.test', 3000);
    expect(answer.v4.ok && answer.v4.ips.length).toBe(100);
    expect(dns.tcpQueries).toBeGreaterThanOrEqual(1);
  });
});

describe('SystemResolver', () => {
  it('resolves localhost from /etc/hosts', async () => {
    const answer = await new SystemResolver().resolve('localhost', 3000);
    expect(answer.v4).toEqual({ ok: true, ips: ['127.0.0.1'] });
  });
});

describe('BackendDiscovery', () => {
  it('publishes the backends sorted, IPv4 first, once per change', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.10', '127.0.0.3', '127.0.0.2'], aaaa: ['::1'] });
    const { sets, latest, discovery } = discover(`dns://${dns.address}/orders.test:7000`);
    await waitFor(latest, (s) => s !== undefined, { what: 'a first set' });
    expect(latest()).toEqual(['127.0.0.2:7000', '127.0.0.3:7000', '127.0.0.10:7000', '[::1]:7000']);
    expect(discovery.status).toMatchObject({ state: 'ok', resolved: 4, notProbed: 0 });
    // Unchanged records over several refreshes publish nothing new.
    const queries = dns.queries.A;
    await waitFor(
      () => dns.queries.A,
      (n) => n >= queries + 2,
      { timeoutMs: 10_000, what: 'two refreshes' },
    );
    expect(sets).toHaveLength(1);
  });

  it('follows records removed and added at run time', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    const { latest } = discover(`dns://${dns.address}/orders.test:7000`);
    await waitFor(latest, (s) => s?.length === 3, { what: 'three backends' });
    dns.set('orders.test', { a: ['127.0.0.2', '127.0.0.4', '127.0.0.5'] });
    const next = await waitFor(latest, (s) => s?.includes('127.0.0.5:7000') === true, {
      timeoutMs: 10_000,
      what: 'the added record',
    });
    expect(next).toEqual(['127.0.0.2:7000', '127.0.0.4:7000', '127.0.0.5:7000']);
  });

  it('keeps the last good set while the DNS server is down, warns once, and recovers', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.2', '127.0.0.3'] });
    const { sets, latest, logs, discovery } = discover(`dns://${dns.address}/orders.test:7000`, {
      timeoutMs: 1500,
    });
    await waitFor(latest, (s) => s?.length === 2, { what: 'two backends' });
    await dns.stop();
    await waitFor(
      () => discovery.status.state,
      (s) => s === 'stale',
      { timeoutMs: 15_000, what: 'stale' },
    );
    expect(discovery.status).toMatchObject({ resolved: 2 });
    expect(discovery.status.error).toMatch(/^A E[A-Z]+; AAAA E[A-Z]+$/);
    // Retries keep failing: still one warning, and the set is unchanged.
    const attempt = discovery.status.lastAttemptTime;
    await waitFor(
      () => discovery.status.lastAttemptTime,
      (t) => t !== attempt,
      {
        timeoutMs: 15_000,
        what: 'another failed attempt',
      },
    );
    const warnings = logs.filter(
      (l) => l.msg === 'backend resolution failed, keeping the last good backends',
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, host: 'orders.test', kept: 2 });
    expect(sets).toEqual([['127.0.0.2:7000', '127.0.0.3:7000']]);

    dns.set('orders.test', { a: ['127.0.0.3'] });
    await dns.start();
    await waitFor(latest, (s) => s?.length === 1, { timeoutMs: 15_000, what: 'the new set after recovery' });
    expect(discovery.status.state).toBe('ok');
    expect(logs.filter((l) => l.msg === 'backend resolution recovered')).toHaveLength(1);
  });

  it('keeps the last set when the name disappears (NXDOMAIN)', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.2'] });
    const { sets, latest, discovery } = discover(`dns://${dns.address}/orders.test:7000`);
    await waitFor(latest, (s) => s?.length === 1, { what: 'one backend' });
    dns.delete('orders.test');
    await waitFor(
      () => discovery.status.state,
      (s) => s === 'stale',
      { timeoutMs: 10_000, what: 'stale' },
    );
    expect(discovery.status.error).toBe('the name has no A or AAAA records');
    expect(sets).toHaveLength(1);
  });

  it('keeps a family that fails on its last answer while the other one updates', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.2'], aaaa: ['::1'] });
    const { latest, discovery } = discover(`dns://${dns.address}/orders.test:7000`);
    await waitFor(latest, (s) => s?.length === 2, { what: 'two backends' });
    dns.modeFor.AAAA = 'servfail';
    dns.set('orders.test', { a: ['127.0.0.3'], aaaa: [] });
    const next = await waitFor(latest, (s) => s?.includes('127.0.0.3:7000') === true, {
      timeoutMs: 10_000,
      what: 'the new A record',
    });
    expect(next).toEqual(['127.0.0.3:7000', '[::1]:7000']);
    expect(discovery.status).toMatchObject({ state: 'stale', error: 'AAAA ESERVFAIL' });
  });

  it('probes the first max_backends addresses, counts the rest and warns', async () => {
    const dns = await dnsServer();
    dns.set('orders.test', { a: ['127.0.0.5', '127.0.0.4', '127.0.0.3', '127.0.0.2'] });
    const { latest, logs, discovery } = discover(`dns://${dns.address}/orders.test:7000`, { maxBackends: 2 });
    await waitFor(latest, (s) => s !== undefined, { what: 'a set' });
    expect(latest()).toEqual(['127.0.0.2:7000', '127.0.0.3:7000']);
    expect(discovery.status).toMatchObject({ resolved: 4, notProbed: 2 });
    expect(
      logs.find((l) => l.msg === 'more addresses than fan_out.max_backends: probing the first'),
    ).toMatchObject({
      level: 40,
      resolved: 4,
      max_backends: 2,
      not_probed: 2,
    });
  });

  it('publishes an ipv4: list once, without DNS', async () => {
    const { sets, discovery } = discover('ipv4:127.0.0.3:7000,127.0.0.2:7000', { maxBackends: 1 });
    expect(sets).toEqual([['127.0.0.3:7000']]);
    expect(discovery.status).toMatchObject({ state: 'ok', resolved: 2, notProbed: 1 });
  });

  it('resolves a plain name with the system resolver', async () => {
    const { latest } = discover('localhost:7000');
    const set = await waitFor(latest, (s) => s !== undefined, { what: 'a set' });
    expect(set).toContain('127.0.0.1:7000');
  });
});
