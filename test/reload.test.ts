// Hot reload: POST /-/reload, a ConfigMap-style symlink swap picked up by the file watcher, SIGHUP to
// the real CLI. Unchanged targets keep their channel, stream and counters; removed ones lose their
// series; new ones start; an invalid config is rejected and the old one keeps running.

import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startCli, waitForUrl } from './harness/cli-process.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { sampleValue } from './harness/prom-text.js';
import { RunningApp } from './harness/running-app.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const WATCH_UP = 'grpc_probe_health_watch_up';

function configText(targets: Record<string, string>, extra = ''): string {
  const list = Object.entries(targets)
    .map(([name, address]) => `  - name: ${name}\n    address: "${address}"\n`)
    .join('');
  return `server: { listen: "127.0.0.1:0", enable_lifecycle: true }\ndefaults: { timeout: 1s, interval: 2s }\n${extra}targets:\n${list}`;
}

async function grpcTarget(): Promise<GrpcTarget> {
  const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  cleanup.push(() => target.stop());
  return target;
}

describe('reload', () => {
  it('POST /-/reload keeps unchanged targets, removes and adds the others', async () => {
    const a = await grpcTarget();
    const b = await grpcTarget();
    const c = await grpcTarget();
    // The proxy counts connections: an unchanged target must not re-dial.
    const proxyA = await new TcpProxy(a.port).start();
    cleanup.push(() => proxyA.close());
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-reload-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configText({ a: proxyA.address, b: b.address }));
    const app = await new RunningApp('', { configFile: file }).start();
    cleanup.push(() => app.close());
    await app.waitForMetric(WATCH_UP, { target: 'a', health_service: '' }, 1);
    await app.waitForMetric(WATCH_UP, { target: 'b', health_service: '' }, 1);
    a.setStatus('', 'NOT_SERVING');
    await app.waitForMetric(
      'grpc_probe_health_status',
      { target: 'a', health_service: '', status: 'NOT_SERVING' },
      1,
    );
    const changesBefore = await app.metric('grpc_probe_health_changes_total', {
      target: 'a',
      health_service: '',
      status: 'NOT_SERVING',
    });

    writeFileSync(file, configText({ a: proxyA.address, c: c.address }));
    const response = await app.app.server.inject({ method: 'POST', url: '/-/reload' });
    expect(response.statusCode).toBe(200);

    await app.waitForMetric(WATCH_UP, { target: 'c', health_service: '' }, 1);
    const text = await app.metricsText();
    expect(text).not.toContain('target="b"');
    expect(
      sampleValue(text, 'grpc_probe_health_changes_total', {
        target: 'a',
        health_service: '',
        status: 'NOT_SERVING',
      }),
    ).toBe(changesBefore);
    expect(sampleValue(text, 'grpc_probe_attempts_total', { target: 'a', probe: 'health' })).toBe(1);
    expect(
      sampleValue(text, 'grpc_probe_health_status', {
        target: 'a',
        health_service: '',
        status: 'NOT_SERVING',
      }),
    ).toBe(1);
    expect(proxyA.accepted).toBe(1);
    expect(sampleValue(text, 'grpc_pulse_config_last_reload_successful')).toBe(1);
    const targets = (await app.app.server.inject('/api/v1/targets'))
      .json()
      .targets.map((t: { name: string }) => t.name);
    expect(targets.sort()).toEqual(['a', 'c']);
  });

  it('rejects an invalid config with its errors, keeps the old one running, and recovers', async () => {
    const a = await grpcTarget();
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-reload-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configText({ a: a.address }));
    const app = await new RunningApp('', { configFile: file }).start();
    cleanup.push(() => app.close());
    await app.waitForMetric(WATCH_UP, { target: 'a', health_service: '' }, 1);

    writeFileSync(file, `${configText({ a: a.address })}    adress: typo\n`);
    const rejected = await app.app.server.inject({ method: 'POST', url: '/-/reload' });
    expect(rejected.statusCode).toBe(500);
    expect(rejected.body).toContain(`${file}:6: targets[0].adress: unknown key "adress"`);
    expect(await app.metric('grpc_pulse_config_last_reload_successful')).toBe(0);
    expect(await app.metric(WATCH_UP, { target: 'a', health_service: '' })).toBe(1);
    expect(app.logs.some((l) => l.includes('config reload rejected'))).toBe(true);

    const b = await grpcTarget();
    writeFileSync(file, configText({ a: a.address, b: b.address }));
    expect((await app.app.server.inject({ method: 'POST', url: '/-/reload' })).statusCode).toBe(200);
    expect(await app.metric('grpc_pulse_config_last_reload_successful')).toBe(1);
    await app.waitForMetric(WATCH_UP, { target: 'b', health_service: '' }, 1);
  });

  it('follows a ConfigMap update (an atomic ..data symlink swap) without being asked', async () => {
    const a = await grpcTarget();
    const b = await grpcTarget();
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-configmap-'));
    const version = (name: string, text: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'config.yaml'), text);
    };
    version('..2026_11_21_v1', configText({ a: a.address }));
    symlinkSync('..2026_11_21_v1', join(dir, '..data'));
    symlinkSync('..data/config.yaml', join(dir, 'config.yaml'));
    const app = await new RunningApp('', { configFile: join(dir, 'config.yaml') }).start();
    cleanup.push(() => app.close());
    await app.waitForMetric(WATCH_UP, { target: 'a', health_service: '' }, 1);

    // What the kubelet does: write the new version, point a temporary link at it, rename it over ..data.
    version('..2026_11_21_v2', configText({ a: a.address, b: b.address }));
    symlinkSync('..2026_11_21_v2', join(dir, '..data_tmp'));
    renameSync(join(dir, '..data_tmp'), join(dir, '..data'));

    await app.waitForMetric(WATCH_UP, { target: 'b', health_service: '' }, 1, 8000);
    expect(app.logs.some((l) => l.includes('config file changed'))).toBe(true);
  });
});

describe('SIGHUP', () => {
  it('reloads the config of the running CLI', async () => {
    const a = await grpcTarget();
    const b = await grpcTarget();
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-sighup-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configText({ a: a.address }));
    const child = startCli(['run', '--config', file]);
    cleanup.push(async () => {
      child.process.kill('SIGKILL');
      await child.exited;
    });
    const url = await waitForUrl(child);
    writeFileSync(file, configText({ a: a.address, b: b.address }));
    child.process.kill('SIGHUP');
    await waitFor(
      async () =>
        sampleValue(await (await fetch(`${url}/metrics`)).text(), WATCH_UP, {
          target: 'b',
          health_service: '',
        }),
      (v) => v === 1,
      { timeoutMs: 8000, what: 'target b after SIGHUP' },
    );
    expect(child.stdout()).toContain('"signal":"SIGHUP"');
  });
});

describe('config watcher', () => {
  it('does not reload a file that did not change', async () => {
    const a = await grpcTarget();
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-still-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(file, configText({ a: a.address }));
    const app = await new RunningApp('', { configFile: file }).start();
    cleanup.push(() => app.close());
    await app.waitForMetric(WATCH_UP, { target: 'a', health_service: '' }, 1);
    // Touch the directory and rewrite the same bytes: events, checks, and no reload.
    writeFileSync(join(dir, 'unrelated.txt'), 'x');
    writeFileSync(file, configText({ a: a.address }));
    await waitFor(
      () => app.logs.some((l) => l.includes('config file checked, unchanged')),
      (seen) => seen,
      { timeoutMs: 5000, what: 'the watcher to check the unchanged file' },
    );
    expect(app.logs.filter((l) => l.includes('"msg":"config reloaded"'))).toHaveLength(0);
    const b = await grpcTarget();
    // A real change after those: its reload must be the first and only one.
    writeFileSync(file, configText({ a: a.address, b: b.address }));
    await app.waitForMetric(WATCH_UP, { target: 'b', health_service: '' }, 1, 8000);
    expect(app.logs.filter((l) => l.includes('"msg":"config reloaded"'))).toHaveLength(1);
  });
});
