// Fan-out end to end (issue 13): a real DNS server on 127.0.0.1 answers one name with A records
// 127.0.0.2, .3, .4, where real grpc-js servers listen on one shared port. Every backend is probed on
// its own channel; one stopped fails alone; records removed and added are reconciled without touching
// the other backends' connections (their servers' accepted-connection counts) or counters; the DNS
// server down keeps the last set with a warning. Also ipv4: lists, IPv6 on ::1, TLS names, /probe.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type Backend, FLEET_SERVICE, hasIpv6Loopback, startFleet } from './harness/backend-fleet.js';
import { RecordsDnsServer } from './harness/dns-server.js';
import { parseSamples, sampleValue } from './harness/prom-text.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { makeTlsMaterial, serverCredentials } from './harness/tls-material.js';
import { waitFor } from './harness/wait-for.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const NAME = 'orders.test';
const PROBES = `    health: [ { service: "" }, { service: ${FLEET_SERVICE}, mode: check } ]\n`;
/** The HTTP server of the app is not used: inject() reaches fastify directly. */
const api = async (app: RunningApp) => {
  const response = await app.app.server.inject({ method: 'GET', url: '/api/v1/targets' });
  return response.json() as { targets: TargetView[] };
};

interface BackendView {
  backend: string;
  state: 'up' | 'down';
  reason: string | null;
}
interface TargetView {
  name: string;
  backends?: BackendView[];
  resolution?: { state: string; error?: string; resolved: number; notProbed: number };
}

async function fleet(ips: string[], credentials?: Parameters<typeof startFleet>[1]): Promise<Backend[]> {
  const backends = await startFleet(ips, credentials);
  cleanups.push(async () => {
    for (const b of backends) await b.stop();
  });
  return backends;
}

async function dns(records: string[]): Promise<RecordsDnsServer> {
  const server = await new RecordsDnsServer().start();
  server.set(NAME, { a: records });
  cleanups.push(() => server.close());
  return server;
}

async function app(targets: string): Promise<RunningApp> {
  const running = await new RunningApp(testConfig(targets)).start();
  cleanups.push(() => running.close());
  return running;
}

/** grpc_probe_success of every backend of `target` for `probe`, by backend. */
async function successByBackend(running: RunningApp, target: string, probe = 'health') {
  const out: Record<string, number> = {};
  for (const s of parseSamples(await running.metricsText())) {
    if (s.name === 'grpc_probe_success' && s.labels.target === target && s.labels.probe === probe)
      out[s.labels.backend ?? '(none)'] = s.value;
  }
  return out;
}

const backendsGauge = (running: RunningApp, target: string, state: 'up' | 'down') =>
  running.metric('grpc_probe_backends', { target, state });

describe('fan-out over DNS', () => {
  it('probes every backend, fails only the one stopped, and reconciles records by address', async () => {
    const [b2, b3, b4, b5] = (await fleet([
      '127.0.0.2',
      '127.0.0.3',
      '127.0.0.4',
      '127.0.0.5',
    ])) as Backend[] & [Backend, Backend, Backend, Backend];
    await b5.stop(); // not in DNS yet
    const server = await dns([b2.ip, b3.ip, b4.ip]);
    const running = await app(
      `  - name: orders\n    address: "dns://${server.address}/${NAME}:${b2.port}"\n    fan_out: { refresh: 1s }\n${PROBES}`,
    );

    // All three probed, each on its own connection, with both probes.
    await waitFor(
      () => successByBackend(running, 'orders'),
      (s) => s[b2.key] === 1 && s[b3.key] === 1 && s[b4.key] === 1,
      { timeoutMs: 15_000, what: 'three backends up' },
    );
    await waitFor(
      () => successByBackend(running, 'orders', `health:${FLEET_SERVICE}`),
      (s) => Object.values(s).filter((v) => v === 1).length === 3,
      { timeoutMs: 15_000, what: 'the Check probe up on three backends' },
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'orders', state: 'up' }, 3, 10_000);
    expect(await backendsGauge(running, 'orders', 'down')).toBe(0);
    for (const b of [b2, b3, b4]) {
      expect(b.accepted).toBe(1);
      // The authority is the target's name, not the address dialled.
      expect([...b.authorities]).toEqual([`${NAME}:${b2.port}`]);
    }
    // No series of a fan-out target lacks its backend.
    const perTarget = parseSamples(await running.metricsText()).filter(
      (s) =>
        s.name.startsWith('grpc_probe_') && s.labels.target === 'orders' && s.name !== 'grpc_probe_backends',
    );
    expect(perTarget.length).toBeGreaterThan(0);
    expect(perTarget.filter((s) => s.labels.backend === undefined)).toEqual([]);
    expect(new Set(perTarget.map((s) => s.labels.backend))).toEqual(new Set([b2.key, b3.key, b4.key]));

    // One backend stops: only it fails.
    await b3.stop();
    await running.waitForMetric('grpc_probe_backends', { target: 'orders', state: 'down' }, 1, 20_000);
    expect(await backendsGauge(running, 'orders', 'up')).toBe(2);
    const success = await successByBackend(running, 'orders');
    expect(success).toEqual({ [b2.key]: 1, [b3.key]: 0, [b4.key]: 1 });
    const view = (await api(running)).targets.find((t) => t.name === 'orders');
    expect(view?.backends?.map((b) => [b.backend, b.state])).toEqual([
      [b2.key, 'up'],
      [b3.key, 'down'],
      [b4.key, 'up'],
    ]);
    expect(view?.backends?.[1]?.reason).toMatch(/^connection_(closed|refused|reset)$|^unknown$/);
    expect(view?.backends?.[0]?.reason).toBeNull();
    // The status page shows the same: the down backend, with its reason.
    const page = (await running.app.server.inject({ method: 'GET', url: '/' })).body;
    const row = new RegExp(
      `<li class="backend fail">[^\n]*${b3.key.replace(/\./g, '\\.')}[^\n]*<code>${view?.backends?.[1]?.reason}</code>`,
    );
    expect(page).toMatch(row);
    expect(page).toContain(`<li class="backend ok">`);

    // Records change: .4 leaves, .5 joins. .2 keeps its channel (no new connection) and its counters.
    await b5.start();
    const attempts2 = await running.metric('grpc_probe_attempts_total', { backend: b2.key, probe: 'health' });
    server.set(NAME, { a: [b2.ip, b3.ip, b5.ip] });
    await waitFor(
      () => successByBackend(running, 'orders'),
      (s) => s[b5.key] === 1 && !(b4.key in s),
      { timeoutMs: 20_000, what: '.5 probed and .4 gone' },
    );
    expect(b2.accepted).toBe(1);
    expect(b5.accepted).toBe(1);
    expect(await running.metric('grpc_probe_attempts_total', { backend: b2.key, probe: 'health' })).toBe(
      attempts2,
    );
    // Every series of the removed backend is gone.
    expect(parseSamples(await running.metricsText()).filter((s) => s.labels.backend === b4.key)).toEqual([]);
    // A removed backend's channel is closed: its server sees the connection go.
    await waitFor(
      () => b4.open,
      (n) => n === 0,
      { timeoutMs: 10_000, what: '.4 connection closed' },
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'orders', state: 'up' }, 2, 10_000);
    expect(await backendsGauge(running, 'orders', 'down')).toBe(1);
  });

  it('keeps the last set and warns when the DNS server goes down', async () => {
    const [b2, b3] = (await fleet(['127.0.0.2', '127.0.0.3'])) as [Backend, Backend];
    const server = await dns([b2.ip, b3.ip]);
    const running = await app(
      `  - name: orders\n    address: "dns://${server.address}/${NAME}:${b2.port}"\n    fan_out: { refresh: 1s }\n${PROBES}`,
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'orders', state: 'up' }, 2, 15_000);
    await server.stop();
    const stale = await waitFor(
      async () => (await api(running)).targets.find((t) => t.name === 'orders')?.resolution,
      (r) => r?.state === 'stale',
      { timeoutMs: 20_000, what: 'resolution stale' },
    );
    expect(stale).toMatchObject({ resolved: 2 });
    expect(stale?.error).toMatch(/^A E[A-Z]+; AAAA E[A-Z]+$/);
    const warnings = running.logs.filter((l) =>
      l.includes('"backend resolution failed, keeping the last good backends"'),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"level":40');
    // The backends keep being probed, on the same connections.
    expect(await successByBackend(running, 'orders')).toEqual({ [b2.key]: 1, [b3.key]: 1 });
    expect(await backendsGauge(running, 'orders', 'up')).toBe(2);
    expect(b2.accepted).toBe(1);
  });

  it('probes the first max_backends addresses and reports the rest', async () => {
    const [b2, b3, b4] = (await fleet(['127.0.0.2', '127.0.0.3', '127.0.0.4'])) as [
      Backend,
      Backend,
      Backend,
    ];
    const server = await dns([b4.ip, b3.ip, b2.ip]);
    const running = await app(
      `  - name: orders\n    address: "dns://${server.address}/${NAME}:${b2.port}"\n    fan_out: { max_backends: 2 }\n${PROBES}`,
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'orders', state: 'up' }, 2, 15_000);
    expect(Object.keys(await successByBackend(running, 'orders')).sort()).toEqual([b2.key, b3.key]);
    expect(b4.accepted).toBe(0);
    const view = (await api(running)).targets.find((t) => t.name === 'orders');
    expect(view?.resolution).toMatchObject({ resolved: 3, notProbed: 1 });
    expect(running.logs.some((l) => l.includes('more addresses than fan_out.max_backends'))).toBe(true);
  });

  it('keeps the TLS name on the target host while dialling each address', async () => {
    const tls = makeTlsMaterial();
    // The certificate names localhost and 127.0.0.1 only: 127.0.0.2 and .3 verify only by name.
    const [b2, b3] = (await fleet(['127.0.0.2', '127.0.0.3'], serverCredentials(tls.server))) as [
      Backend,
      Backend,
    ];
    const server = await new RecordsDnsServer().start();
    cleanups.push(() => server.close());
    server.set('localhost', { a: [b2.ip, b3.ip] });
    const running = await app(
      `  - name: secure\n    address: "dns://${server.address}/localhost:${b2.port}"\n    fan_out: {}\n` +
        `    tls: { ca_file: "${tls.caFile}" }\n${PROBES}`,
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'secure', state: 'up' }, 2, 15_000);
    expect([...b2.authorities]).toEqual([`localhost:${b2.port}`]);
  });
});

describe('fan-out over address lists', () => {
  it('probes each address of an ipv4: list', async () => {
    const [b2, b3] = (await fleet(['127.0.0.2', '127.0.0.3'])) as [Backend, Backend];
    const running = await app(
      `  - name: pool\n    address: "ipv4:${b3.key},${b2.key}"\n    fan_out: {}\n${PROBES}`,
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'pool', state: 'up' }, 2, 15_000);
    expect(await successByBackend(running, 'pool')).toEqual({ [b2.key]: 1, [b3.key]: 1 });
    // grpc-js' authority for an address list is its first entry.
    expect([...b2.authorities]).toEqual([b3.key]);
  });

  it('runs an ipv4: list without fan_out as one target (no backend label)', async () => {
    const [b2, b3] = (await fleet(['127.0.0.2', '127.0.0.3'])) as [Backend, Backend];
    const running = await app(`  - name: pool\n    address: "ipv4:${b2.key},${b3.key}"\n${PROBES}`);
    await running.waitForMetric('grpc_probe_success', { target: 'pool', probe: 'health' }, 1, 15_000);
    expect(await successByBackend(running, 'pool')).toEqual({ '(none)': 1 });
    expect(await running.metric('grpc_probe_backends', { target: 'pool', state: 'up' })).toBeUndefined();
    expect(b2.accepted + b3.accepted).toBeGreaterThanOrEqual(1);
  });

  it('fans out over IPv4 and IPv6 (::1) addresses of one name', async (context) => {
    if (!(await hasIpv6Loopback())) {
      context.skip('this machine has no IPv6 loopback (::1)');
      return;
    }
    const [b2, b6] = (await fleet(['127.0.0.2', '::1'])) as [Backend, Backend];
    const server = await dns([b2.ip]);
    server.set(NAME, { a: [b2.ip], aaaa: ['::1'] });
    const running = await app(
      `  - name: dual\n    address: "dns://${server.address}/${NAME}:${b2.port}"\n    fan_out: {}\n${PROBES}`,
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'dual', state: 'up' }, 2, 15_000);
    expect(b6.key).toBe(`[::1]:${b6.port}`);
    expect(await successByBackend(running, 'dual')).toEqual({ [b2.key]: 1, [b6.key]: 1 });
    expect([...b6.authorities]).toEqual([`${NAME}:${b2.port}`]);
  });
});

describe('/probe on a fan-out target', () => {
  it('probes the first backend, or the one named by &backend=', async () => {
    const [b2, b3] = (await fleet(['127.0.0.2', '127.0.0.3'])) as [Backend, Backend];
    b3.health.setStatus('', 'NOT_SERVING');
    const running = await app(
      `  - name: pool\n    address: "ipv4:${b2.key},${b3.key}"\n    fan_out: {}\n${PROBES}`,
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'pool', state: 'up' }, 1, 15_000);
    const probe = (query: string) => running.app.server.inject({ method: 'GET', url: `/probe?${query}` });
    const first = await probe('target=pool&module=health');
    expect(first.statusCode).toBe(200);
    expect(sampleValue(first.body, 'probe_success')).toBe(1);
    const named = await probe(`target=pool&module=health&backend=${encodeURIComponent(b3.key)}`);
    expect(sampleValue(named.body, 'probe_success')).toBe(0);
    expect(sampleValue(named.body, 'grpc_probe_failure_reason', { reason: 'not_serving' })).toBe(1);
    const unknown = await probe('target=pool&module=health&backend=127.0.0.9:1');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain(
      `unknown backend "127.0.0.9:1" for target "pool" (known: ${b2.key}, ${b3.key})`,
    );
  });
});

describe('fan-out across reloads and failures', () => {
  it('keeps the backends of an unchanged fan-out target across a reload, and drops them all when it goes', async () => {
    const [b2, b3] = (await fleet(['127.0.0.2', '127.0.0.3'])) as [Backend, Backend];
    const server = await dns([b2.ip, b3.ip]);
    const fanOutTarget = `  - name: orders\n    address: "dns://${server.address}/${NAME}:${b2.port}"\n    fan_out: { refresh: 1s }\n${PROBES}`;
    const other = `  - name: single\n    address: "${b2.key}"\n`;
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-fanout-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, testConfig(fanOutTarget));
    const running = await new RunningApp('', { configFile: file }).start();
    cleanups.push(() => running.close());
    await running.waitForMetric('grpc_probe_backends', { target: 'orders', state: 'up' }, 2, 15_000);
    const attempts = await running.metric('grpc_probe_attempts_total', { backend: b3.key, probe: 'health' });

    writeFileSync(file, testConfig(fanOutTarget + other));
    expect(await running.app.reload()).toEqual({ ok: true });
    await running.waitForMetric('grpc_probe_success', { target: 'single', probe: 'health' }, 1, 15_000);
    // Unchanged: same connections (the new target `single` dials .2 once more, on its own channel).
    expect(b3.accepted).toBe(1);
    expect(b2.accepted).toBe(2);
    expect(await running.metric('grpc_probe_attempts_total', { backend: b3.key, probe: 'health' })).toBe(
      attempts,
    );

    writeFileSync(file, testConfig(other));
    expect(await running.app.reload()).toEqual({ ok: true });
    const left = parseSamples(await running.metricsText()).filter((s) => s.labels.target === 'orders');
    expect(left).toEqual([]);
    await waitFor(
      () => b3.open,
      (n) => n === 0,
      { timeoutMs: 10_000, what: '.3 connection closed' },
    );
    expect((await api(running)).targets.map((t) => t.name)).toEqual(['single']);
  });

  it('resolves again soon after a backend fails, well before the refresh is due', async () => {
    const [b2, b3, b4] = (await fleet(['127.0.0.2', '127.0.0.3', '127.0.0.4'])) as [
      Backend,
      Backend,
      Backend,
    ];
    await b4.stop();
    const server = await dns([b2.ip, b3.ip]);
    const running = await app(
      `  - name: orders\n    address: "dns://${server.address}/${NAME}:${b2.port}"\n    fan_out: { refresh: 10m }\n${PROBES}`,
    );
    await running.waitForMetric('grpc_probe_backends', { target: 'orders', state: 'up' }, 2, 15_000);
    // The pod on .3 is replaced by one on .4: DNS knows, the refresh is 10 minutes away.
    await b4.start();
    server.set(NAME, { a: [b2.ip, b4.ip] });
    const queries = server.queries.A;
    await b3.stop();
    await waitFor(
      () => successByBackend(running, 'orders'),
      (s) => s[b4.key] === 1 && !(b3.key in s),
      { timeoutMs: 20_000, what: '.4 probed and .3 gone after the failure' },
    );
    expect(server.queries.A).toBeGreaterThan(queries);
    expect(b2.accepted).toBe(1);
  });
});
