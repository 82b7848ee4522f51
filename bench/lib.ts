// Small measuring tools for the benches: percentiles, process stats from /proc, child processes.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ProcStats {
  /** user + system CPU seconds since the process started. */
  cpuSeconds: number;
  rssBytes: number;
  /** RssAnon: the process's private memory (heap, stacks, buffers), without the mapped binary. */
  anonBytes: number;
}

/** CPU and memory of a process, from /proc (Linux). */
export function procStats(pid: number): ProcStats {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, fields 14 and 15 of stat
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? 0) * 1024;
  return { cpuSeconds: ticks / 100, rssBytes: kb('VmRSS'), anonBytes: kb('RssAnon') };
}

export const mib = (bytes: number) => bytes / 2 ** 20;

/** A long-running child process whose output is searched for a line. */
export class Child {
  readonly process: ChildProcess;
  output = '';

  constructor(command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.process = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    this.process.stdout?.on('data', (c) => {
      this.output = (this.output + String(c)).slice(-2_000_000);
    });
    this.process.stderr?.on('data', (c) => {
      this.output = (this.output + String(c)).slice(-2_000_000);
    });
  }

  get pid(): number {
    return this.process.pid as number;
  }

  async waitFor(re: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const match = re.exec(this.output);
      if (match) return match;
      await sleep(20);
    }
    throw new Error(`timed out waiting for ${re}: ${this.output.slice(-2000)}`);
  }

  async stop(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null) return;
    const exited = new Promise((r) => this.process.once('exit', r));
    this.process.kill('SIGTERM');
    const timer = setTimeout(() => this.process.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** GET with a fresh connection each time is what Prometheus does not do; keep-alive is fetch's default. */
export async function getText(url: string, headers: Record<string, string> = {}): Promise<string> {
  const response = await fetch(url, { headers });
  return response.text();
}

/** One scrape as Prometheus makes it: the bytes on the wire, the time to the last byte, the text. */
export async function scrape(
  url: string,
  gzip: boolean,
): Promise<{ ms: number; wireBytes: number; text: string; encoding: string }> {
  const started = performance.now();
  const body = await new Promise<{ raw: Buffer; encoding: string }>((resolve, reject) => {
    const request = get(url, { headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () =>
        resolve({ raw: Buffer.concat(chunks), encoding: String(response.headers['content-encoding'] ?? '') }),
      );
      response.on('error', reject);
    });
    request.on('error', reject);
  });
  const ms = performance.now() - started;
  const text = (body.encoding === 'gzip' ? gunzipSync(body.raw) : body.raw).toString('utf8');
  return { ms, wireBytes: body.raw.length, text, encoding: body.encoding };
}

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
