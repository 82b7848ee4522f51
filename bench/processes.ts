// The processes the benches compare, each started on 127.0.0.1 and found by a line it prints:
// grpc-pulse (the built CLI), the floor (floor.ts), blackbox_exporter and the gRPC target.

import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { freePort, tempDir, writeFile } from '../test/harness/services.js';
import { Child } from './lib.js';

const BLACKBOX = 'prometheus-blackbox-exporter';

export interface Running {
  child: Child;
  url: string;
}

/** The node flags the image runs grpc-pulse with: those of deploy/Dockerfile's ENTRYPOINT. */
export function shippedNodeFlags(): string[] {
  const line = /^ENTRYPOINT (.*)$/m.exec(readFileSync('deploy/Dockerfile', 'utf8'))?.[1] ?? '[]';
  const [, ...rest] = JSON.parse(line) as string[];
  return rest.slice(0, -1);
}

/** grpc-pulse from dist/, with the stall probe preloaded (inert until armed by SIGUSR2). */
export async function startPulse(configText: string, nodeFlags: string[] = []): Promise<Running> {
  const dir = tempDir('bench-pulse');
  const file = writeFile(dir, 'config.yaml', configText);
  const child = new Child(process.execPath, [
    ...nodeFlags,
    '--import',
    './.bench-dist/bench/stall-probe.js',
    'dist/cli.js',
    'run',
    '--config',
    file,
  ]);
  const match = await child.waitFor(/"url":"(http:\/\/[^"]+)"/, 120_000);
  return { child, url: match[1] as string };
}

/** The bare grpc-js + node:http floor for `targets` targets (floor.ts), with grpc-pulse's node flags. */
export async function startFloor(address: string, targets: number, intervalMs: number): Promise<Running> {
  const child = new Child(process.execPath, [
    ...shippedNodeFlags(),
    '.bench-dist/bench/floor.js',
    address,
    String(targets),
    String(intervalMs),
  ]);
  const match = await child.waitFor(/URL (http:\S+)/, 60_000);
  return { child, url: match[1] as string };
}

export function blackboxAvailable(): boolean {
  return spawnSync(BLACKBOX, ['--version']).status === 0;
}

export function blackboxVersion(): string {
  const out = spawnSync(BLACKBOX, ['--version'], { encoding: 'utf8' });
  return /version (\S+)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'not installed';
}

/** blackbox_exporter with a grpc module (health Check over a new connection per probe). */
export async function startBlackbox(): Promise<Running> {
  const dir = tempDir('bench-blackbox');
  const config = writeFile(
    dir,
    'blackbox.yml',
    'modules:\n  grpc:\n    prober: grpc\n    timeout: 2s\n    grpc:\n      tls: false\n      preferred_ip_protocol: ip4\n',
  );
  const port = await freePort();
  const child = new Child(BLACKBOX, [`--config.file=${config}`, `--web.listen-address=127.0.0.1:${port}`]);
  await child.waitFor(/Listening on|listening/i, 20_000);
  return { child, url: `http://127.0.0.1:${port}` };
}

/** The gRPC target (target-child.ts) in its own process. */
export async function startTargetChild(): Promise<{ child: Child; address: string }> {
  const child = new Child(process.execPath, ['.bench-dist/bench/target-child.js']);
  const match = await child.waitFor(/PORT (\d+)/);
  return { child, address: `127.0.0.1:${match[1]}` };
}

/** Sends SIGUSR2 twice around `during` and returns the line the child printed for it. */
export async function armed<T>(
  child: Child,
  line: RegExp,
  during: () => Promise<T>,
): Promise<[T, RegExpExecArray]> {
  const from = child.output.length;
  child.process.kill('SIGUSR2');
  const result = await during();
  child.process.kill('SIGUSR2');
  const deadline = performance.now() + 10_000;
  for (;;) {
    const match = line.exec(child.output.slice(from));
    if (match) return [result, match];
    if (performance.now() > deadline) throw new Error(`no ${line} from pid ${child.pid}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
