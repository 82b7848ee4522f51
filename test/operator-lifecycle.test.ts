// Start and stop of the real CLI: a signal during the (slow) config load ends it with exit 0; SIGTERM
// with /probe requests in flight aborts them and exits 0 well within 5 s; a failed reload from each
// trigger (SIGHUP, POST /-/reload, a file change) keeps the daemon alive on its old config.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, waitForUrl } from './harness/cli-process.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { listenLoopback } from './harness/listen.js';
import { sampleValue } from './harness/prom-text.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'grpc-pulse-life-'));
}

describe('signals before start', () => {
  it.each(['SIGTERM', 'SIGHUP'] as const)(
    '%s while the config is still being read does not kill the process',
    async (signal) => {
      const dir = tempDir();
      const fifo = join(dir, 'config.yaml');
      execFileSync('mkfifo', [fifo]);
      const child = startCli(['run', '--config', fifo]);
      cleanup.push(async () => {
        child.process.kill('SIGKILL');
        await child.exited;
      });
      // Opening a FIFO for writing completes once the reader opened it: the CLI is inside its config
      // load, after its imports, before the app exists.
      const writer = await open(fifo, 'w');
      child.process.kill(signal);
      const text = 'server: { listen: "127.0.0.1:0" }\ndemo: { enabled: true }\n';
      // Later reads (the watcher, the reload) find a plain file; the open FIFO is unaffected.
      writeFileSync(join(dir, 'plain.yaml'), text);
      renameSync(join(dir, 'plain.yaml'), fifo);
      await writer.write(text);
      await writer.close();
      if (signal === 'SIGTERM') {
        const done = await child.exited;
        expect(done.signal).toBeNull();
        expect(done.code).toBe(0);
      } else {
        // SIGHUP's default action would have killed it; instead it starts, then reloads.
        await waitForUrl(child, 15_000);
        await waitFor(
          () => child.stdout(),
          (out) => out.includes('"signal":"SIGHUP"'),
          { timeoutMs: 10_000, what: 'the deferred SIGHUP reload' },
        );
        child.process.kill('SIGTERM');
        expect((await child.exited).code).toBe(0);
      }
    },
  );
});

describe('SIGTERM with /probe in flight', () => {
  it('aborts the probes and exits 0 within 5 s', async () => {
    // A peer that accepts TCP and never speaks: every probe waits for its full timeout.
    const sockets = new Set<Socket>();
    const silent = createServer((s) => {
      sockets.add(s);
      s.on('error', () => {});
    });
    const port = await listenLoopback(silent);
    cleanup.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => silent.close(() => r()));
    });
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    writeFileSync(
      config,
      `server: { listen: "127.0.0.1:0" }\ndefaults: { timeout: 30s, interval: 1m }\ntargets:\n` +
        `  - name: stuck\n    address: "127.0.0.1:${port}"\n    health: [{ service: "", mode: check }]\n`,
    );
    const child = startCli(['run', '--config', config]);
    cleanup.push(async () => {
      child.process.kill('SIGKILL');
      await child.exited;
    });
    const url = await waitForUrl(child);
    const probes = Array.from({ length: 5 }, () =>
      fetch(`${url}/probe?target=stuck`).then(
        (r) => r.status,
        () => 0,
      ),
    );
    await waitFor(
      () => sockets.size,
      (n) => n >= 1,
      { timeoutMs: 10_000, what: 'the probe connection at the silent peer' },
    );
    const stopAt = performance.now();
    child.process.kill('SIGTERM');
    const done = await child.exited;
    const took = performance.now() - stopAt;
    expect(done.code).toBe(0);
    expect(took).toBeLessThan(5000);
    expect(done.stdout).not.toContain('shutdown took too long');
    for (const status of await Promise.all(probes)) expect([0, 503]).toContain(status);
  });
});

describe('a failed reload keeps the daemon alive, from every trigger', () => {
  it('SIGHUP, POST /-/reload and a file change each answer the failure and keep the old config', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    const dir = tempDir();
    const config = join(dir, 'config.yaml');
    const good = `server: { listen: "127.0.0.1:0", enable_lifecycle: true }\ndefaults: { timeout: 1s, interval: 2s }\ntargets:\n  - name: api\n    address: "${target.address}"\n`;
    writeFileSync(config, good);
    const child = startCli(['run', '--config', config]);
    cleanup.push(async () => {
      child.process.kill('SIGKILL');
      await child.exited;
    });
    const url = await waitForUrl(child);
    const gauge = async () =>
      sampleValue(await (await fetch(`${url}/metrics`)).text(), 'grpc_pulse_config_last_reload_successful');
    const rejections = () =>
      child
        .stdout()
        .split('\n')
        .filter((l) => l.includes('config reload rejected')).length;
    // Each bad config is one that validate rejects but that once crashed the daemon.
    const bad = [
      `${good}    metadata: { x-note: "caf\u00e9" }\n`,
      `${good}    metadata: { trace-bin: "not base64!" }\n`,
      `${good}    interval: 30d\n`,
    ];
    const triggers: [string, () => Promise<void>][] = [
      ['SIGHUP', async () => void child.process.kill('SIGHUP')],
      [
        'POST',
        async () => {
          const answer = await fetch(`${url}/-/reload`, { method: 'POST' });
          expect(answer.status).toBe(500);
          expect(await answer.text()).toContain('the previous config keeps running');
        },
      ],
      ['file change', async () => {}],
    ];
    for (const [i, [name, trigger]] of triggers.entries()) {
      const before = rejections();
      writeFileSync(config, bad[i] ?? '');
      await trigger();
      await waitFor(rejections, (n) => n > before, {
        timeoutMs: 20_000,
        what: `the rejection after ${name}`,
      });
      expect(await gauge()).toBe(0);
      expect(child.process.exitCode).toBeNull();
      expect((await fetch(`${url}/-/healthy`)).status).toBe(200);
    }
    writeFileSync(config, `${good}    timeout: 500ms\n`);
    child.process.kill('SIGHUP');
    await waitFor(gauge, (v) => v === 1, { timeoutMs: 20_000, what: 'a good reload after the bad ones' });
    child.process.kill('SIGTERM');
    const done = await child.exited;
    expect(done.code).toBe(0);
    expect(done.stderr).toBe('');
  });
});
