// Debian's headless Chromium driven by puppeteer-core: a fresh profile per launch, no network of its
// own (no QUIC, no background or component updates, no sync), and per page a record of console
// errors, page errors and every request that left the page's origin.

import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = () => existsSync(CHROMIUM);

export interface WatchedPage {
  page: Page;
  /** Console errors and uncaught exceptions, as text. */
  errors: string[];
  /** URLs requested outside the page's origin. */
  foreign: string[];
}

export class HeadlessChromium {
  #browser: Browser | undefined;
  #profile = '';

  async launch(): Promise<this> {
    this.#profile = mkdtempSync(join(tmpdir(), 'grpc-pulse-chromium-'));
    this.#browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Puppeteer's defaults add their own flags; these are the ones that keep Chromium off the network.
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${this.#profile}`,
      ],
      timeout: 30_000,
    });
    return this;
  }

  /** A new page that records errors and foreign requests for pages of `origin`. */
  async open(origin: string, viewport = { width: 1280, height: 900 }): Promise<WatchedPage> {
    if (!this.#browser) throw new Error('launch() first');
    const page = await this.#browser.newPage();
    await page.setViewport(viewport);
    const watched: WatchedPage = { page, errors: [], foreign: [] };
    page.on('console', (message) => {
      if (message.type() === 'error') watched.errors.push(`console: ${message.text()}`);
    });
    page.on('pageerror', (err) => watched.errors.push(`page: ${String(err)}`));
    page.on('request', (request) => {
      const url = request.url();
      if (!url.startsWith(`${origin}/`) && url !== origin) watched.foreign.push(url);
    });
    return watched;
  }

  async close(): Promise<void> {
    await this.#browser?.close();
    this.#browser = undefined;
    if (this.#profile) rmSync(this.#profile, { recursive: true, force: true });
  }
}
