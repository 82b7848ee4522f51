// gRPC servers in child processes: a C-core server (Debian's python3-grpcio, pinned to /usr/bin/python3,
// the interpreter Debian installs it for) and a grpc-js server that a test can SIGKILL like a crash.

import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';

export const DEBIAN_PYTHON = '/usr/bin/python3';

export class ChildServer {
  port = 0;
  readonly #child: ChildProcess;
  #output = '';

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.stdout?.on('data', (c) => {
      this.#output += String(c);
    });
    child.stderr?.on('data', (c) => {
      this.#output += String(c);
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** Starts `command args` and waits (bounded) for its "PORT <n>" line. */
  static async start(command: string, args: string[], timeoutMs = 10_000): Promise<ChildServer> {
    const server = new ChildServer(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] }));
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const match = /PORT (\d+)\r?\n/.exec(server.#output); // the whole line: it may arrive in pieces
      if (match) {
        server.port = Number(match[1]);
        return server;
      }
      if (server.#child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    server.#child.kill('SIGKILL');
    throw new Error(`${command} did not report a port: ${server.#output}`);
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.kill(signal);
    await exited;
  }
}

/** Whether Debian's grpcio is installed for /usr/bin/python3. */
export function hasPythonGrpc(): boolean {
  return (
    existsSync(DEBIAN_PYTHON) &&
    spawnSync(DEBIAN_PYTHON, ['-c', 'import grpc'], { stdio: 'ignore' }).status === 0
  );
}
