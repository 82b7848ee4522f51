// Secrets against a real server that echoes what it receives: the echoed token never reaches a log
// line, a page or an API body; a from_file secret rotated by a Kubernetes-style `..data` symlink
// swap is sent from the next call on, without a reload; fingerprints see a new secret value.

import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Metadata, Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { targetFingerprint } from '../src/targets/target-set.js';
import { RunningApp } from './harness/running-app.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** A health server that refuses every Check and quotes the authorization it got in the details. */
async function echoingServer(): Promise<{ address: string; tokens: string[] }> {
  const tokens: string[] = [];
  const server = new Server();
  server.addService(healthService, {
    check: (
      call: { metadata: Metadata },
      callback: (err: { code: number; details: string } | null) => void,
    ) => {
      const token = String(call.metadata.get('authorization')[0] ?? '');
      tokens.push(token);
      callback({ code: Status.UNAUTHENTICATED, details: `token "${token}" is not valid here` });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  cleanup.push(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, tokens };
}

/** A directory laid out as kubelet mounts a Secret: `token` → `..data/token`, `..data` → a dated dir. */
function secretVolume(value: string): { dir: string; rotate: (next: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-secret-'));
  let generation = 0;
  const write = (text: string) => {
    generation += 1;
    const data = join(dir, `..2026_${generation}`);
    mkdirSync(data);
    writeFileSync(join(data, 'token'), `${text}\n`);
    symlinkSync(data, join(dir, `..data_tmp`));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  };
  write(value);
  symlinkSync(join('..data', 'token'), join(dir, 'token'));
  return { dir, rotate: write };
}

describe('secrets echoed by a server', () => {
  it('are redacted from logs, the status page, /api/v1/targets and /probe', async () => {
    const server = await echoingServer();
    const token = 'Bearer echo-me-7d3f9a';
    const app = new RunningApp(
      `server: { listen: "127.0.0.1:0" }\ndefaults: { timeout: 1s, interval: 2s }\ntargets:\n` +
        `  - name: api\n    address: "${server.address}"\n    health: [{ service: "", mode: check }]\n` +
        `    metadata: { authorization: { from_env: API_TOKEN } }\n`,
      { env: { API_TOKEN: token } },
    );
    cleanup.push(() => app.close());
    await app.start();
    await app.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { target: 'api', probe: 'health', reason: 'rpc_error' },
      1,
    );
    expect(server.tokens).toContain(token); // the server did get it, and quoted it back
    const bodies = await Promise.all(
      ['/', '/api/v1/targets', '/metrics', '/probe?target=api'].map(
        async (url) => (await app.app.server.inject(url)).body,
      ),
    );
    const page = bodies[0] ?? '';
    expect(page).toContain('is not valid here'); // the details are shown ...
    for (const body of bodies) expect(body).not.toContain('echo-me'); // ... without the token
    expect(page).toContain('&lt;redacted&gt;');
    for (const line of app.logs) expect(line).not.toContain('echo-me');
  });
});

describe('from_file secrets rotate without a reload', () => {
  it('sends the new token after a ..data swap, keeping the channel and counters', async () => {
    const server = await echoingServer();
    const volume = secretVolume('Bearer first-token');
    const file = join(mkdtempSync(join(tmpdir(), 'grpc-pulse-rotate-')), 'config.yaml');
    writeFileSync(
      file,
      `server: { listen: "127.0.0.1:0" }\ndefaults: { timeout: 1s, interval: 2s }\ntargets:\n` +
        `  - name: api\n    address: "${server.address}"\n    interval: 300ms\n    timeout: 200ms\n` +
        `    health: [{ service: "", mode: check }]\n` +
        `    metadata: { authorization: { from_file: ${join(volume.dir, 'token')} } }\n`,
    );
    const app = new RunningApp('', { configFile: file });
    cleanup.push(() => app.close());
    await app.start();
    await waitFor(
      () => server.tokens.includes('Bearer first-token'),
      (seen) => seen,
      { timeoutMs: 10_000, what: 'the first token at the server' },
    );
    const attemptsBefore =
      (await app.metric('grpc_probe_attempts_total', { target: 'api', probe: 'health' })) ?? 0;
    volume.rotate('Bearer second-token');
    await waitFor(
      () => server.tokens.at(-1),
      (last) => last === 'Bearer second-token',
      { timeoutMs: 20_000, what: 'the rotated token at the server' },
    );
    const attemptsAfter =
      (await app.metric('grpc_probe_attempts_total', { target: 'api', probe: 'health' })) ?? 0;
    expect(attemptsAfter).toBeGreaterThan(attemptsBefore); // same runner, counters kept
    expect(app.logs.some((l) => l.includes('secret file rotated'))).toBe(true);
    expect(app.logs.some((l) => l.includes('config reloaded') || l.includes('target stopped'))).toBe(false);
    for (const line of app.logs) expect(line).not.toMatch(/first-token|second-token/);
    // A reload after the rotation sees the same value the runner already sends: nothing restarts.
    const reloaded = await app.app.reload();
    expect(reloaded).toEqual({ ok: true });
    expect(app.logs.some((l) => l.includes('target stopped'))).toBe(false);
  });
});

describe('target fingerprints', () => {
  const fingerprintWith = (token: string) => {
    const config = parseConfigText(
      'targets:\n  - name: api\n    address: "127.0.0.1:1"\n    metadata: { authorization: { from_env: T } }\n',
      'f.yaml',
      { baseDir: '.', env: { T: token } },
    );
    const target = config.targets[0];
    if (!target) throw new Error('no target');
    return targetFingerprint(target);
  };

  it('change when a secret value changes, and only then', () => {
    expect(fingerprintWith('token-one')).toBe(fingerprintWith('token-one'));
    expect(fingerprintWith('token-one')).not.toBe(fingerprintWith('token-two'));
  });
});
