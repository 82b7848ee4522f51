// The container image cannot be built here (no Docker engine, no base images), so this test repeats
// the steps of deploy/Dockerfile's last two stages in a clean directory: the production-only install
// and exactly the files the final stage copies, then starts grpc-pulse as the image would and asks
// /-/ready. A file the image forgets, or a runtime import of a dev dependency, fails here.

import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { startCli, waitForUrl } from './harness/cli-process.js';
import { runTool } from './harness/tools.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** The COPY and RUN lines of one stage of the Dockerfile. */
function stage(dockerfile: string, index: number): string[] {
  const stages = dockerfile.split(/^FROM /m).slice(1);
  return (stages[index] ?? '').split('\n').filter((l) => /^(COPY|RUN) /.test(l));
}

it('installs and starts from exactly what the Dockerfile copies', { timeout: 180_000 }, async () => {
  const dockerfile = readFileSync('deploy/Dockerfile', 'utf8');
  const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-image-'));

  // Stage "deps": the manifest and lock file, then its RUN line verbatim (a production install).
  for (const line of stage(dockerfile, 1)) {
    if (line.startsWith('COPY ')) {
      for (const source of line.split(/\s+/).slice(1, -1)) cpSync(source, join(dir, source));
    } else {
      // In the clean directory: never in the repository, whose dev dependencies the tests need.
      const install = runTool('sh', ['-c', line.slice('RUN '.length)], undefined, 170_000, dir);
      expect(install.status, install.output).toBe(0);
    }
  }
  // Final stage: node_modules comes from "deps" (already here); the rest from the build or the repo.
  for (const line of stage(dockerfile, 2).filter((l) => l.startsWith('COPY '))) {
    const parts = line.split(/\s+/);
    if (parts.includes('--from=deps')) continue;
    const source = parts.includes('--from=build')
      ? (parts[2] as string).replace('/src/', '')
      : (parts[1] as string);
    cpSync(source, join(dir, (parts.at(-1) as string) === './' ? source : (parts.at(-1) as string)), {
      recursive: true,
    });
  }
  const [entry, ...cmd] = JSON.parse(/^ENTRYPOINT (.*)$/m.exec(dockerfile)?.[1] ?? '[]') as string[];
  expect(entry).toBe('node');
  // Node flags, then the CLI; the flags must be ones node accepts (NODE_OPTIONS rejects others).
  const nodeFlags = cmd.slice(0, -1);
  expect(cmd.at(-1)).toBe('dist/cli.js');
  expect(nodeFlags.every((f) => f.startsWith('--'))).toBe(true);
  // The dev dependencies really are absent, so a runtime import of one would fail below.
  expect(() => readFileSync(join(dir, 'node_modules/vitest/package.json'))).toThrow();

  writeFileSync(join(dir, 'config.yaml'), 'server: { listen: "127.0.0.1:0" }\ndemo: { enabled: true }\n');
  const child = startCli(
    ['run', '--config', join(dir, 'config.yaml')],
    { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: nodeFlags.join(' ') },
    join(dir, 'dist/cli.js'),
  );
  cleanup.push(async () => {
    child.process.kill('SIGKILL');
    await child.exited;
  });
  const url = await waitForUrl(child, 15_000);
  expect((await fetch(`${url}/-/ready`)).status).toBe(200);
  const metrics = await (await fetch(`${url}/metrics`)).text();
  expect(metrics).toContain('grpc_probe_health_status{target="demo"');
  child.process.kill('SIGTERM');
  expect((await child.exited).code).toBe(0);
});
