/// <reference lib="dom" />
// The status page in a real browser (Debian's headless Chromium) against a real App probing real
// servers: failing targets first, the summary's numbers, the reason explained with a runbook link,
// a live flip without reload, the lost feed, no console error and no request outside the origin.
// `npm run screenshots` writes the screenshots of docs/ and the README from this run.

import { mkdirSync, mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { explainFailure } from '../src/outcome/troubleshooting.js';
import type { TargetStatus } from '../src/status/status-store.js';
import { HeadlessChromium, hasChromium, type WatchedPage } from './harness/browser.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { listenLoopback } from './harness/listen.js';
import { needs } from './harness/needs.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { makeTlsMaterial, serverCredentials } from './harness/tls-material.js';
import { waitFor } from './harness/wait-for.js';

const SHOTS =
  process.env.UPDATE_SCREENSHOTS === '1' ? 'docs' : mkdtempSync(join(tmpdir(), 'grpc-pulse-shots-'));
mkdirSync(SHOTS, { recursive: true });

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

let browser: HeadlessChromium | undefined;
beforeAll(async () => {
  if (hasChromium()) browser = await new HeadlessChromium().launch();
});
afterAll(async () => {
  await browser?.close();
});

/** A port where nothing listens: bound once, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listenLoopback(server);
  await new Promise((r) => server.close(r));
  return port;
}

/** Accepts TCP and never says a word: the probe never gets an HTTP/2 connection. */
async function silentListener(): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const port = await listenLoopback(server);
  cleanup.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((r) => server.close(r));
  });
  return { port, server };
}

async function grpcTarget(options: ConstructorParameters<typeof GrpcTarget>[0]): Promise<GrpcTarget> {
  const target = await new GrpcTarget(options).start();
  cleanup.push(() => target.stop());
  return target;
}

async function startApp(targetsYaml: string): Promise<RunningApp> {
  const app = new RunningApp(testConfig(targetsYaml));
  cleanup.push(() => app.close());
  await app.start();
  return app;
}

async function targetsOf(app: RunningApp): Promise<TargetStatus[]> {
  return ((await app.app.server.inject('/api/v1/targets')).json() as { targets: TargetStatus[] }).targets;
}

/** Waits until every named target's probes have the wanted verdicts (true = all pass). */
async function waitForVerdicts(app: RunningApp, want: Record<string, boolean>): Promise<void> {
  await waitFor(
    () => targetsOf(app),
    (targets) =>
      Object.entries(want).every(([name, ok]) => {
        const probes = Object.values(targets.find((t) => t.name === name)?.probes ?? {});
        return probes.length > 0 && probes.every((p) => p.lastResultTime !== undefined && p.success === ok);
      }),
    { timeoutMs: 15_000, what: `verdicts ${JSON.stringify(want)}` },
  );
}

async function openPage(url: string, viewport?: { width: number; height: number }): Promise<WatchedPage> {
  if (!browser) throw new Error('no browser');
  const watched = await browser.open(url, viewport);
  cleanup.push(() => watched.page.close());
  const response = await watched.page.goto(`${url}/`, { waitUntil: 'load' });
  expect(response?.status()).toBe(200);
  expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
  // The script connected its live feed.
  await watched.page.waitForSelector('#feed.live', { timeout: 10_000 });
  return watched;
}

/** What the page shows of each target, in page order. */
function cards(page: WatchedPage['page']) {
  return page.$$eval('details.target', (els) =>
    els.map((el) => ({
      name: el.getAttribute('data-target'),
      verdict: el.getAttribute('data-verdict'),
      open: (el as HTMLDetailsElement).open,
      text: (el as HTMLElement).innerText,
      probes: Array.from(el.querySelectorAll('li.probe')).map((p) => ({
        name: p.getAttribute('data-probe'),
        state: p.getAttribute('data-state'),
        badge: p.querySelector('.line .badge')?.textContent,
        reason: p.querySelector('.reason')?.textContent ?? null,
        runbook: p.querySelector('a.runbook')?.getAttribute('href') ?? null,
      })),
    })),
  );
}

function counts(page: WatchedPage['page']) {
  return page.$$eval('#summary [data-count]', (els) =>
    Object.fromEntries(els.map((el) => [el.getAttribute('data-count'), Number(el.textContent)])),
  );
}

describe('status page in Chromium', () => {
  it('lists failing targets first with their reason, meaning and runbook, and the right summary', async (ctx) => {
    needs(ctx, hasChromium(), 'chromium');
    const tls = makeTlsMaterial();
    const healthy = await grpcTarget({ health: { '': 'SERVING' } });
    const secure = await grpcTarget({
      health: { '': 'SERVING' },
      credentials: serverCredentials(tls.server),
    });
    const notServing = await grpcTarget({ health: { '': 'NOT_SERVING' } });
    const noSuchService = await grpcTarget({ health: { '': 'SERVING' } });
    const plaintext = await grpcTarget({ health: { '': 'SERVING' } });
    const checked = await grpcTarget({ health: { '': 'SERVING' } });
    const silent = await silentListener();
    const refused = await closedPort();
    // Failing targets come first in the config, so page order cannot be config order by chance.
    const app = await startApp(
      [
        `  - { name: payments, address: "${healthy.address}" }`,
        `  - { name: ledger, address: "127.0.0.1:${refused}" }`,
        `  - name: search\n    address: "${secure.address}"\n    tls: { ca_file: "${tls.caFile}", server_name: localhost }`,
        `  - { name: inventory, address: "${notServing.address}" }`,
        `  - name: orders\n    address: "${noSuchService.address}"\n    health: [ { service: orders.v1.Orders } ]`,
        `  - name: billing\n    address: "${plaintext.address}"\n    tls: { insecure_skip_verify: true }`,
        `  - { name: shipping, address: "127.0.0.1:${silent.port}" }`,
        `  - name: users\n    address: "${checked.address}"\n    health: [ { service: "", mode: check } ]`,
      ]
        .join('\n')
        .concat('\n'),
    );
    await waitForVerdicts(app, { payments: true, search: true, users: true });
    // A checked target that goes away: its last answer was SERVING, its verdict is now failing.
    await checked.stop();
    await waitForVerdicts(app, {
      ledger: false,
      inventory: false,
      orders: false,
      billing: false,
      shipping: false,
      users: false,
    });

    const watched = await openPage(app.url);
    const shown = await cards(watched.page);
    expect(shown.map((c) => c.verdict)).toEqual([
      'failing',
      'failing',
      'failing',
      'failing',
      'failing',
      'failing',
      'degraded', // a certificate valid for one more day
      'healthy',
    ]);
    expect(shown.slice(0, 6).map((c) => c.name)).toEqual([
      'ledger',
      'inventory',
      'orders',
      'billing',
      'shipping',
      'users',
    ]);
    expect(shown.at(-1)?.name).toBe('payments');
    expect(await counts(watched.page)).toEqual({
      targets: 8,
      failing: 6,
      degraded: 1,
      healthy: 1,
      'probes-failing': 6,
    });
    const byName = Object.fromEntries(shown.map((c) => [c.name, c]));
    const probe = (name: string) => byName[name]?.probes[0];
    expect(probe('ledger')).toMatchObject({ badge: 'FAILING', reason: 'connection_refused' });
    expect(probe('inventory')).toMatchObject({ badge: 'NOT_SERVING', reason: 'not_serving' });
    expect(probe('orders')).toMatchObject({ badge: 'SERVICE_UNKNOWN', reason: 'not_serving' });
    expect(probe('billing')).toMatchObject({ badge: 'FAILING', reason: 'tls_error' });
    expect(probe('shipping')).toMatchObject({ badge: 'FAILING', reason: 'connect_timeout' });
    expect(probe('users')?.badge).toBe('FAILING');
    expect(byName.users?.text).not.toContain('SERVING');
    expect(probe('payments')).toMatchObject({ badge: 'SERVING', state: 'ok', runbook: null });
    // Runbooks follow the alert that fires: not_serving has its own.
    expect(probe('ledger')?.runbook).toMatch(/\/docs\/runbooks\/GrpcProbeFailing\.md$/);
    expect(probe('inventory')?.runbook).toMatch(/\/GrpcHealthNotServing\.md$/);
    // The meaning and what to check come from docs/troubleshooting.md.
    const refusedMeaning = explainFailure('connection_refused')?.meaning ?? 'missing';
    expect(byName.ledger?.text).toContain(refusedMeaning);
    expect(byName.ledger?.text).toMatch(/connection_refused\s+(Unavailable\s+)?×\d+ since \d\d:\d\d:\d\d/);
    expect(byName.search?.text).toMatch(/certificate\s+\d+h left/);
    expect(byName.search?.text).toMatch(/connection age \d+/);
    // Eight targets are many: the healthy one starts collapsed, every other one open.
    expect(shown.map((c) => c.open)).toEqual([true, true, true, true, true, true, true, false]);

    await watched.page.screenshot({ path: join(SHOTS, 'status-page-failing.png'), fullPage: true });
    await watched.page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'dark' }]);
    await watched.page.screenshot({ path: join(SHOTS, 'status-page-failing-dark.png'), fullPage: true });
    const phone = await openPage(app.url, { width: 390, height: 844 });
    const overflow = await phone.page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    expect(overflow, 'no horizontal scrolling on a phone').toBeLessThanOrEqual(0);
    await phone.page.screenshot({ path: join(SHOTS, 'status-page-phone.png') });

    // Without JavaScript the same page, in the same order, says that it refreshes itself.
    if (!browser) throw new Error('no browser');
    const plain = await browser.open(app.url);
    cleanup.push(() => plain.page.close());
    await plain.page.setJavaScriptEnabled(false);
    await plain.page.goto(`${app.url}/`, { waitUntil: 'load' });
    expect((await cards(plain.page)).map((c) => c.verdict)).toEqual(shown.map((c) => c.verdict));
    expect(await plain.page.$eval('#feed', (el) => el.textContent)).toContain('refreshes every 15 s');

    expect(watched.errors).toEqual([]);
    expect(watched.foreign).toEqual([]);
    expect(plain.errors).toEqual([]);
    expect(phone.errors).toEqual([]);
    expect(phone.foreign).toEqual([]);
  }, 60_000);

  it('shows a flip of a real server without a reload, and says when the feed is lost', async (ctx) => {
    needs(ctx, hasChromium(), 'chromium');
    const orders = await grpcTarget({ health: { '': 'SERVING', 'orders.v1.Orders': 'SERVING' } });
    const payments = await grpcTarget({ health: { '': 'SERVING' } });
    const search = await grpcTarget({ health: { '': 'SERVING' } });
    const app = await startApp(
      [
        `  - name: orders\n    address: "${orders.address}"\n    health: [ { service: "" }, { service: orders.v1.Orders } ]`,
        `  - { name: payments, address: "${payments.address}" }`,
        `  - { name: search, address: "${search.address}" }`,
      ]
        .join('\n')
        .concat('\n'),
    );
    await waitForVerdicts(app, { orders: true, payments: true, search: true });
    const watched = await openPage(app.url);
    const { page } = watched;
    expect(await counts(page)).toMatchObject({ targets: 3, failing: 0, healthy: 3 });
    await page.screenshot({ path: join(SHOTS, 'status-page-healthy.png'), fullPage: true });
    await page.evaluate(() => {
      (globalThis as unknown as { marker: string }).marker = 'same document';
    });

    const flipped = performance.now();
    orders.setStatus('orders.v1.Orders', 'NOT_SERVING');
    await page.waitForSelector('details[data-target="orders"][data-verdict="failing"]', { timeout: 5000 });
    const flipMs = performance.now() - flipped;
    expect(await counts(page)).toMatchObject({ failing: 1, healthy: 2, 'probes-failing': 1 });
    expect((await cards(page))[0]?.name).toBe('orders');
    expect(await page.title()).toBe('1 failing · grpc-pulse');
    // The user's open detail survives the next update.
    await page.click('details[data-target="payments"] > summary');
    orders.setStatus('orders.v1.Orders', 'SERVING');
    await page.waitForSelector('details[data-target="orders"][data-verdict="healthy"]', { timeout: 5000 });
    expect(
      await page.$eval('details[data-target="payments"]', (el) => (el as unknown as { open: boolean }).open),
    ).toBe(false);
    expect(await page.evaluate(() => (globalThis as unknown as { marker?: string }).marker)).toBe(
      'same document',
    );
    console.info(`status page: a health flip reached the browser in ${flipMs.toFixed(0)} ms`);

    await app.close();
    await page.waitForSelector('#feed.lost', { timeout: 10_000 });
    expect(await page.$eval('#feed', (el) => el.textContent)).toMatch(
      /live updates lost at \d\d:\d\d:\d\d UTC/,
    );
    // The browser retries the feed while the server is gone: those failures are expected console noise.
    expect(watched.errors.filter((e) => !e.includes('ERR_CONNECTION_REFUSED'))).toEqual([]);
    expect(watched.foreign).toEqual([]);
  }, 60_000);
});
