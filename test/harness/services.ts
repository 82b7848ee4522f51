// Real Prometheus and Alertmanager processes (Debian packages) on 127.0.0.1, each in its own
// temporary directory, plus a webhook receiver that records what Alertmanager delivers.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listenLoopback } from './listen.js';
import { waitFor } from './wait-for.js';

/** A port the OS just handed out; the tools below cannot bind port 0 and report it back. */
export async function freePort(): Promise<number> {
  const server = createServer();
  const port = await listenLoopback(server);
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export class ServiceProcess {
  readonly #child: ChildProcess;
  #output = '';

  constructor(command: string, args: string[]) {
    this.#child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child.stdout?.on('data', (c) => this.#append(String(c)));
    this.#child.stderr?.on('data', (c) => this.#append(String(c)));
  }

  #append(text: string): void {
    // Keep the tail only: these services log steadily.
    this.#output = (this.#output + text).slice(-20_000);
  }

  get output(): string {
    return this.#output;
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill('SIGTERM');
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Waits until `url` answers 200. */
export async function waitReady(url: string, service: ServiceProcess, timeoutMs = 20_000): Promise<void> {
  await waitFor(
    async () => {
      try {
        return (await fetch(url)).status;
      } catch {
        return 0;
      }
    },
    (status) => status === 200,
    { timeoutMs, what: `${url} to answer; output so far:\n${service.output.slice(-2000)}` },
  );
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `grpc-pulse-${prefix}-`));
}

export function writeFile(dir: string, name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Records every webhook notification Alertmanager posts. */
export class WebhookReceiver {
  readonly notifications: { status: string; alerts: { status: string; labels: Record<string, string> }[] }[] =
    [];
  port = 0;
  readonly #server: Server = createHttpServer((request, response) => {
    let body = '';
    request.on('data', (c) => {
      body += String(c);
    });
    request.on('end', () => {
      this.notifications.push(JSON.parse(body));
      response.writeHead(200).end();
    });
  });

  async start(): Promise<this> {
    this.port = await listenLoopback(this.#server);
    return this;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
