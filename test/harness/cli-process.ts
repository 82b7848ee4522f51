// Runs the built CLI (dist/cli.js) as a child process, the way a user or Kubernetes runs it.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { waitFor } from './wait-for.js';

export const CLI = 'dist/cli.js';

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" (npm test does it first)`);
}

/** Runs the CLI to completion, killing it after `timeoutMs`. */
export async function runCli(args: string[], timeoutMs = 10_000): Promise<Finished> {
  const child = startCli(args);
  const timer = setTimeout(() => child.process.kill('SIGKILL'), timeoutMs);
  const result = await child.exited;
  clearTimeout(timer);
  return result;
}

export interface CliProcess {
  process: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<Finished>;
}

/** Waits for the daemon's "grpc-pulse ready" log line and returns the URL it listens on. */
export function waitForUrl(child: CliProcess, timeoutMs = 10_000): Promise<string> {
  return waitFor(
    () => /"url":"(http:\/\/[^"]+)"/.exec(child.stdout())?.[1],
    (found): found is string => found !== undefined,
    { timeoutMs, what: `the "grpc-pulse ready" log line; stderr: ${child.stderr()}` },
  ) as Promise<string>;
}

export function startCli(args: string[], env: NodeJS.ProcessEnv = process.env, cli = CLI): CliProcess {
  if (cli === CLI) assertBuilt();
  const child = spawn(process.execPath, [cli, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = once(child, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
    stdout,
    stderr,
  }));
  return { process: child, stdout: () => stdout, stderr: () => stderr, exited };
}
