// Runs the Debian tools the tests use (promtool, prometheus, alertmanager) and tells whether they exist.

import { spawnSync } from 'node:child_process';

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export interface Ran {
  status: number | null;
  output: string;
}

/** Runs a command to completion (bounded by `timeoutMs`), stdout and stderr together. */
export function runTool(
  command: string,
  args: string[],
  input?: string,
  timeoutMs = 60_000,
  cwd?: string,
): Ran {
  const result = spawnSync(command, args, {
    input,
    encoding: 'utf8',
    timeout: timeoutMs,
    ...(cwd ? { cwd } : {}),
  });
  return { status: result.status, output: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}
