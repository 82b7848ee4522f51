// Small measuring tools for the benches: percentiles, process stats from /proc, child processes.

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** CPU seconds (user + system) and RSS bytes of a process, from /proc (Linux). */
export function procStats(pid: number): { cpuSeconds: number; rssBytes: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime + stime, fields 14 and 15 of stat
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, rssBytes: rssKb * 1024 };
}

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

export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
