// The HTTP surface locked down as Prometheus exporters do it: an exporter-toolkit web config (TLS,
// client certificates, bcrypt basic auth) over a real listening server, /-/healthy left open for the
// kubelet, certificates rotated by rewriting the files, lifecycle off by default, security headers.

import { copyFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import bcrypt from 'bcryptjs';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../src/config/load.js';
import { LIFECYCLE_DISABLED } from '../src/server/build-server.js';
import { loadWebConfig } from '../src/server/web-config.js';
import { runCli } from './harness/cli-process.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { listenLoopback } from './harness/listen.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { makeTlsMaterial } from './harness/tls-material.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const tls = makeTlsMaterial();

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  cert: PeerCertificate;
}

/** One HTTPS GET, trusting the test CA, optionally with basic auth and a client certificate. */
function get(
  url: string,
  options: { auth?: string; client?: boolean; method?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        ca: tls.caPem,
        agent: false,
        ...(options.auth ? { auth: options.auth } : {}),
        ...(options.client ? { cert: tls.client.certPem, key: tls.client.keyPem } : {}),
      },
      (res) => {
        let body = '';
        res.on('data', (c) => {
          body += String(c);
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            cert: (res.socket as TLSSocket).getPeerCertificate(),
          }),
        );
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timed out')));
    req.end();
  });
}

/** A web config in its own directory, with copies of the server certificate and key. */
function webConfigDir(extra: string): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-web-'));
  copyFileSync(tls.server.cert, join(dir, 'server.pem'));
  copyFileSync(tls.server.key, join(dir, 'server-key.pem'));
  copyFileSync(tls.caFile, join(dir, 'client-ca.pem'));
  const file = join(dir, 'web.yaml');
  writeFileSync(file, `tls_server_config:\n  cert_file: server.pem\n  key_file: server-key.pem\n${extra}`);
  return { dir, file };
}

async function startWithWeb(file: string): Promise<{ app: RunningApp; url: string }> {
  const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
  cleanup.push(() => target.stop());
  const app = new RunningApp(testConfig(`  - name: api\n    address: "${target.address}"\n`), {
    web: { file, config: loadWebConfig(file) },
  });
  cleanup.push(() => app.close());
  await app.start();
  return { app, url: app.url.replace('127.0.0.1', 'localhost') };
}

describe('web config: TLS and basic auth', () => {
  it('needs the password everywhere but /-/healthy, and checks it with bcrypt', async () => {
    const hash = bcrypt.hashSync('s3cret pass', 4);
    const { file } = webConfigDir(`basic_auth_users:\n  prometheus: "${hash}"\n`);
    const { url, app } = await startWithWeb(file);
    expect(url.startsWith('https://')).toBe(true);
    expect((await get(`${url}/-/healthy`)).status).toBe(200);
    for (const path of ['/metrics', '/', '/api/v1/targets', '/-/ready', '/probe?target=api']) {
      const denied = await get(`${url}${path}`);
      expect(denied.status).toBe(401);
      expect(denied.headers['www-authenticate']).toContain('Basic');
    }
    expect((await get(`${url}/metrics`, { auth: 'prometheus:wrong' })).status).toBe(401);
    expect((await get(`${url}/metrics`, { auth: 'nobody:s3cret pass' })).status).toBe(401);
    const ok = await get(`${url}/metrics`, { auth: 'prometheus:s3cret pass' });
    expect(ok.status).toBe(200);
    expect(ok.body).toContain('grpc_probe_success');
    for (const line of app.logs) expect(line).not.toContain('s3cret');
  });

  it('with RequireAndVerifyClientCert, needs a certificate from client_ca_file, but not for /-/healthy', async () => {
    const { file } = webConfigDir(
      '  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: client-ca.pem\n',
    );
    const { url } = await startWithWeb(file);
    expect((await get(`${url}/-/healthy`)).status).toBe(200);
    const denied = await get(`${url}/metrics`);
    expect(denied.status).toBe(403);
    expect(denied.body).toContain('client certificate is required');
    expect((await get(`${url}/metrics`, { client: true })).status).toBe(200);
  });

  it('serves a rotated certificate to new connections without a restart', async () => {
    const { dir, file } = webConfigDir('');
    const { url, app } = await startWithWeb(file);
    const before = await get(`${url}/-/healthy`);
    // Rotate: the client certificate (same CA, also valid for localhost) replaces the server's.
    copyFileSync(tls.client.cert, join(dir, 'server.pem'));
    copyFileSync(tls.client.key, join(dir, 'server-key.pem'));
    const after = await waitFor(
      () => get(`${url}/-/healthy`),
      (a) => a.cert.serialNumber !== before.cert.serialNumber,
      { timeoutMs: 20_000, what: 'the rotated certificate' },
    );
    expect(after.cert.subject.CN).toBe('grpc-pulse-client');
    expect(app.logs.some((l) => l.includes('web config reloaded'))).toBe(true);
  });

  it('rejects a broken web config with positioned messages, never printing a hash', () => {
    const { file } = webConfigDir(
      '  client_auth_type: Sometimes\nbasic_auth_users:\n  admin: "plain-text-password"\n',
    );
    let error: unknown;
    try {
      loadWebConfig(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toContain(`${file}:4: tls_server_config.client_auth_type: must be one of "NoClientCert"`);
    expect(message).toContain(`${file}:6: basic_auth_users.admin: is not a bcrypt hash`);
    expect(message).not.toContain('plain-text-password');
  });

  it('makes validate and run exit 2 on an invalid --web.config.file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-web-bad-'));
    const web = join(dir, 'web.yaml');
    writeFileSync(web, 'tls_server_config:\n  cert_file: missing.pem\n  key_file: missing-key.pem\n');
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'server: { listen: "127.0.0.1:0" }\ndemo: { enabled: true }\n');
    for (const command of ['validate', 'run']) {
      const result = await runCli([command, '--config', config, '--web.config.file', web]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `${web}:2: tls_server_config.cert_file: cannot read file "missing.pem": ENOENT`,
      );
    }
  });
});

describe('lifecycle endpoints', () => {
  async function appWith(serverYaml: string, enableLifecycle?: boolean) {
    const yaml = `server: { listen: "127.0.0.1:0"${serverYaml} }\ntargets:\n  - name: api\n    address: "127.0.0.1:9"\n`;
    const app = new RunningApp(yaml, {
      configFile: undefined,
      ...(enableLifecycle ? { enableLifecycle } : {}),
    });
    cleanup.push(() => app.close());
    return app;
  }

  it('POST /-/reload answers 403 naming both switches unless lifecycle is enabled', async () => {
    const off = await appWith('');
    const denied = await off.app.server.inject({ method: 'POST', url: '/-/reload' });
    expect(denied.statusCode).toBe(403);
    expect(denied.body).toBe(`${LIFECYCLE_DISABLED}\n`);
    expect(denied.body).toContain('server.enable_lifecycle');
    expect(denied.body).toContain('--web.enable-lifecycle');
    for (const on of [await appWith(', enable_lifecycle: true'), await appWith('', true)]) {
      // No config file here: the reload is attempted (and reports why it cannot), not refused.
      const answer = await on.app.server.inject({ method: 'POST', url: '/-/reload' });
      expect(answer.statusCode).toBe(500);
      expect(answer.body).toContain('no config file to reload');
    }
  });

  it('coalesces a burst of reload requests: every one answered, at most two reloads run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-burst-'));
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      'server: { listen: "127.0.0.1:0", enable_lifecycle: true }\ntargets:\n  - { name: api, address: "127.0.0.1:9" }\n',
    );
    const app = new RunningApp('', { configFile: file });
    cleanup.push(() => app.close());
    await app.start();
    const answers = await Promise.all(
      Array.from({ length: 200 }, () => app.app.server.inject({ method: 'POST', url: '/-/reload' })),
    );
    expect(answers.map((a) => a.statusCode)).toEqual(Array(200).fill(200));
    const reloads = app.logs.filter((l) => l.includes('"config reloaded"')).length;
    expect(reloads).toBeGreaterThanOrEqual(1);
    expect(reloads).toBeLessThanOrEqual(2);
  });

  it('refuses a cross-origin POST /-/reload even when lifecycle is enabled', async () => {
    const app = await appWith('', true);
    const answer = await app.app.server.inject({
      method: 'POST',
      url: '/-/reload',
      headers: { origin: 'http://attacker.invalid', 'content-type': 'text/plain' },
      payload: 'x',
    });
    expect(answer.statusCode).toBe(403);
  });
});

describe('security headers', () => {
  it('sends CSP, nosniff and X-Frame-Options on the status page, nosniff everywhere', async () => {
    const app = new RunningApp(testConfig('  - name: api\n    address: "127.0.0.1:9"\n'));
    cleanup.push(() => app.close());
    const page = await app.app.server.inject('/');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(page.headers['x-frame-options']).toBe('DENY');
    expect(page.headers['x-content-type-options']).toBe('nosniff');
    const metrics = await app.app.server.inject('/metrics');
    expect(metrics.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('start failure', () => {
  it('a port in use is one clear line and exit 3', async () => {
    const blocker = createServer();
    const port = await listenLoopback(blocker);
    cleanup.push(() => new Promise<void>((r) => blocker.close(() => r())));
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-busy-'));
    const config = join(dir, 'config.yaml');
    writeFileSync(config, `server: { listen: "127.0.0.1:${port}" }\ndemo: { enabled: true }\n`);
    const result = await runCli(['run', '--config', config], 15_000);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe(
      `grpc-pulse: could not start: cannot listen on 127.0.0.1:${port}: address already in use\n`,
    );
  });
});
