// The status page's data and HTML without a browser: the store's deduplicated history, its change
// notifications, escaping of what remote servers say, fan-out backends, and the live feed over a
// real HTTP connection (it must not hold the server open on close).

import { get, type IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { planTarget } from '../src/probes/plan.js';
import { renderLive } from '../src/server/status-page/render.js';
import { defaultPageOptions } from '../src/server/status-page.js';
import { StatusStore } from '../src/status/status-store.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { waitFor } from './harness/wait-for.js';

function storeWith(targetsYaml: string): StatusStore {
  const config = parseConfigText(testConfig(targetsYaml), 'test.yaml', { baseDir: process.cwd(), env: {} });
  const store = new StatusStore();
  for (const t of config.targets) store.addTarget(planTarget(t));
  return store;
}

const OPTIONS = defaultPageOptions('test');

describe('status store history', () => {
  it('counts identical verdicts in a row once and starts a run at every change', () => {
    const store = storeWith('  - { name: api, address: "127.0.0.1:1" }\n');
    const fail = (reason: 'connection_refused' | 'connect_timeout') =>
      store.result('api', 'health', { success: false, reason, details: `${reason} details` });
    for (let i = 0; i < 20; i++) fail('connection_refused');
    fail('connect_timeout');
    store.result('api', 'health', { success: true });
    const [api] = store.snapshot();
    const history = api?.probes.health?.history ?? [];
    expect(history.map((r) => `${r.success ? 'ok' : r.reason} ×${r.count}`)).toEqual([
      'ok ×1',
      'connect_timeout ×1',
      'connection_refused ×20',
    ]);
    // The fields the JSON had before stay as they were.
    expect(api?.recentFailures).toHaveLength(20);
    expect(api?.probes.health?.success).toBe(true);
    expect(api?.probes.health?.lastReason).toBeUndefined();
  });

  it('keeps a bounded history of runs and says which changes are significant', () => {
    const store = storeWith('  - { name: api, address: "127.0.0.1:1" }\n');
    const seen: boolean[] = [];
    const unsubscribe = store.subscribe((significant) => seen.push(significant));
    store.result('api', 'health', { success: false, reason: 'connection_refused' });
    store.result('api', 'health', { success: false, reason: 'connection_refused' });
    store.channelState('api', 'TRANSIENT_FAILURE');
    expect(seen).toEqual([true, false, true]);
    unsubscribe();
    for (let i = 0; i < 100; i++) store.result('api', 'health', { success: i % 2 === 0 });
    expect(seen).toHaveLength(3);
    expect(store.snapshot()[0]?.probes.health?.history.length).toBeLessThanOrEqual(12);
  });

  it('tracks connection age and the last disconnect as runs', () => {
    const store = storeWith('  - { name: api, address: "127.0.0.1:1" }\n');
    store.channelState('api', 'READY');
    expect(store.snapshot()[0]?.connectedSince).toBeDefined();
    store.disconnect('api', 'connection_reset', 'read ECONNRESET');
    store.disconnect('api', 'connection_reset', 'read ECONNRESET');
    store.channelState('api', 'TRANSIENT_FAILURE');
    const [api] = store.snapshot();
    expect(api?.connectedSince).toBeUndefined();
    expect(api?.disconnectHistory.map((d) => `${d.reason} ×${d.count}`)).toEqual(['connection_reset ×2']);
    expect(api?.recentDisconnects).toHaveLength(2);
  });
});

describe('status page HTML', () => {
  it('escapes what a remote server says', () => {
    const store = storeWith('  - { name: api, address: "127.0.0.1:1" }\n');
    const hostile = '<img src=x onerror=alert(1)> "quoted" & <script>alert(2)</script>';
    store.result('api', 'health', { success: false, reason: 'rpc_error', details: hostile });
    store.disconnect('api', 'connection_closed', hostile);
    const html = renderLive(store.snapshot(), OPTIONS);
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt; &quot;quoted&quot; &amp; &lt;script&gt;');
  });

  it('shows the control characters and bidi overrides of a remote server as escapes, on the page and in the feed', () => {
    const store = storeWith('  - { name: api, address: "127.0.0.1:1" }\n');
    const hostile = 'line one\r\nevent: page\rdata: <b>x</b>\u0000\u001b[31m\u202eevil';
    store.result('api', 'health', { success: false, reason: 'rpc_error', details: hostile });
    const html = renderLive(store.snapshot(), OPTIONS);
    expect(html).toContain(
      'line one\\u000d\nevent: page\\u000ddata: &lt;b&gt;x&lt;/b&gt;\\u0000\\u001b[31m\\u202eevil',
    );
    // biome-ignore lint/suspicious/noControlCharactersInRegex: the characters that must not reach the page.
    expect(html).not.toMatch(/[\r\u0000\u001b\u202e]/);
  });

  it('says 1 target and 1 probe, not 1 targets', () => {
    const store = storeWith('  - { name: api, address: "127.0.0.1:1" }\n');
    store.result('api', 'health', { success: true });
    const html = renderLive(store.snapshot(), OPTIONS);
    expect(html).toMatch(/data-count="targets">1<\/span> target · /);
    expect(html).toMatch(/data-count="probes-failing">0<\/span> of 1 probe failing/);
  });

  it('shows fan-out backends and counts the ones down', () => {
    const store = storeWith(
      '  - { name: orders, address: "127.0.0.1:1" }\n  - { name: ledger, address: "127.0.0.1:2" }\n',
    );
    store.result('orders', 'health', { success: true });
    store.result('ledger', 'health', { success: true });
    const [orders, ledger] = store.snapshot();
    if (!orders || !ledger) throw new Error('targets missing');
    Object.assign(orders, {
      backends: [
        { backend: '10.0.0.1:50051', state: 'up' },
        { backend: '10.0.0.2:50051', state: 'down', reason: 'connection_refused' },
      ],
    });
    Object.assign(ledger, { backends: [{ backend: '10.0.0.3:50051', state: 'down', reason: 'tls_error' }] });
    const html = renderLive([orders, ledger], OPTIONS);
    expect(html).toMatch(/data-count="backends-down">2<\/span> of 3 backends down/);
    expect(html).toMatch(/data-target="orders" data-verdict="degraded"/);
    expect(html).toMatch(/data-target="ledger" data-verdict="failing"/);
    expect(html.indexOf('data-target="ledger"')).toBeLessThan(html.indexOf('data-target="orders"'));
    expect(html).toContain('10.0.0.2:50051</span> <code>connection_refused</code>');
  });

  it('judges a fan-out target by its backends, not by its own entry (which has no results)', () => {
    const store = storeWith('  - { name: orders, address: "127.0.0.1:1" }\n');
    const [orders] = store.snapshot();
    if (!orders) throw new Error('target missing');
    Object.assign(orders, {
      channelState: 'IDLE',
      backends: [
        { backend: '10.0.0.1:50051', state: 'up' },
        { backend: '10.0.0.2:50051', state: 'up' },
      ],
    });
    const html = renderLive([orders], OPTIONS);
    expect(html).toMatch(/data-target="orders" data-verdict="healthy"/);
    expect(html).toContain('2 of 2 backends up');
    expect(html).not.toContain('without a result yet');
  });
});

/** Reads server-sent events from a response until `accept` says enough. */
function readEvents(response: IncomingMessage) {
  let buffer = '';
  const events: { event: string; data: string }[] = [];
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buffer += chunk;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const lines = block.split('\n');
      events.push({
        event: lines.find((l) => l.startsWith('event: '))?.slice(7) ?? 'message',
        data: lines
          .filter((l) => l.startsWith('data: '))
          .map((l) => l.slice(6))
          .join('\n'),
      });
    }
  });
  return events;
}

describe('live feed', () => {
  it('pushes the rendered page on a change and ends its streams when the server closes', async () => {
    const app = new RunningApp(testConfig('  - { name: gone, address: "127.0.0.1:9" }\n'));
    try {
      await app.start();
      const response = await new Promise<IncomingMessage>((resolve, reject) =>
        get(`${app.url}/status/events`, resolve).on('error', reject),
      );
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain('text/event-stream');
      const events = readEvents(response);
      const ended = new Promise((resolve) => response.on('end', resolve));
      await waitFor(
        () => events.find((e) => e.event === 'page' && e.data.includes('connection_refused')),
        (found) => found !== undefined,
        { timeoutMs: 10_000, what: 'a page event showing connection_refused' },
      );
      expect(events[0]?.data).toMatch(/^<div id="live"/);
      const closing = performance.now();
      await app.close();
      await ended;
      // A stream left open would hold fastify's close until the client gives up.
      expect(performance.now() - closing).toBeLessThan(5000);
    } finally {
      await app.close();
    }
  });
});
