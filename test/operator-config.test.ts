// "Whatever validate accepts, run starts" (SPEC "Config"): every valid fixture runs under the real
// CLI; TLS material is judged as Node's TLS judges it; a rejected config never prints its secrets.

import { cpSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfigText } from '../src/config/load.js';
import { runCli, startCli, waitForUrl } from './harness/cli-process.js';
import { makeTlsMaterial } from './harness/tls-material.js';

const DIR = 'test/fixtures/config';
const ENV = { GRPC_PULSE_TEST_TOKEN: 'fixture-env-token' };

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** The fixture directory copied aside, each valid config listening on an ephemeral loopback port. */
function fixturesOnLoopback(): { dir: string; valid: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-fixtures-'));
  cpSync(DIR, dir, { recursive: true });
  const valid = readdirSync(dir).filter((f) => f.startsWith('valid-'));
  for (const f of valid) {
    const text = readFileSync(join(dir, f), 'utf8');
    const listen = 'server: { listen: "127.0.0.1:0" }';
    const replaced = text.replace(/^server:.*\n(?:[ \t]+listen:.*\n)?/m, `${listen}\n`);
    writeFileSync(join(dir, f), replaced.includes(listen) ? replaced : `${listen}\n${text}`);
  }
  return { dir, valid };
}

function problemOf(run: () => unknown): ConfigError {
  try {
    run();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('accepted');
}

describe('every config that validate accepts starts', () => {
  const { dir, valid } = fixturesOnLoopback();

  it('has valid fixtures to run', () => {
    expect(valid.sort()).toEqual(['valid-edge.yaml', 'valid-full.yaml', 'valid-minimal.yaml']);
  });

  it.each(valid)('%s: validate exits 0, run serves /metrics and stops with exit 0', async (file) => {
    const path = join(dir, file);
    const env = { ...process.env, ...ENV };
    const validated = await startCli(['validate', '--config', path], env).exited;
    expect(validated.stderr).toBe('');
    expect(validated.code).toBe(0);
    const child = startCli(['run', '--config', path], env);
    cleanup.push(async () => {
      child.process.kill('SIGKILL');
      await child.exited;
    });
    const url = await waitForUrl(child, 15_000);
    const metrics = await fetch(`${url}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('grpc_pulse_config_last_reload_successful 1');
    child.process.kill('SIGTERM');
    const done = await child.exited;
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    expect(done.stdout).not.toContain('"level":60'); // no fatal line
  });
});

describe('TLS material is checked as Node TLS will use it', () => {
  const tls = makeTlsMaterial();
  const configWith = (tlsYaml: string) =>
    `targets:\n  - name: api\n    address: "127.0.0.1:1"\n    tls: { ${tlsYaml} }\n`;
  const parse = (text: string) => () => parseConfigText(text, 'tls.yaml', { baseDir: tls.dir, env: {} });

  it('accepts a matching key pair and CA', () => {
    const config = parse(configWith(`ca_file: ca.pem, cert_file: client.pem, key_file: client-key.pem`))();
    expect(config.targets[0]?.tls?.cert_file).toContain('BEGIN CERTIFICATE');
  });

  it('rejects a key that does not belong to its certificate, without printing the key', () => {
    const error = problemOf(parse(configWith(`cert_file: client.pem, key_file: server-key.pem`)));
    expect(error.message).toMatch(
      /^tls\.yaml:4: targets\[0\]\.tls\.key_file: rejected by TLS: .*key values mismatch/,
    );
    const key = readFileSync(tls.server.key, 'utf8');
    const keyBody = key.split('\n')[1] ?? '';
    expect(keyBody.length).toBeGreaterThan(20);
    expect(error.message).not.toContain(keyBody);
  });

  it('rejects a key file that is not a key, and a certificate that does not parse', () => {
    const notKey = problemOf(parse(configWith(`cert_file: client.pem, key_file: ca.pem`)));
    expect(notKey.problems.map((p) => p.path)).toEqual(['targets[0].tls.key_file']);
    writeFileSync(
      join(tls.dir, 'broken.pem'),
      '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
    );
    const broken = problemOf(parse(configWith(`ca_file: broken.pem`)));
    expect(broken.message).toMatch(/targets\[0\]\.tls\.ca_file: certificate 1 does not parse/);
  });
});

describe('a rejected config never prints a secret', () => {
  it('names where a bad secret came from, not what it is', () => {
    const secret = 'Bearer sk-live-\u00e9-do-not-print';
    const error = problemOf(() =>
      loadConfigFile(`${DIR}/invalid-secret-not-printable.yaml`, {
        env: { GRPC_PULSE_TEST_BAD_TOKEN: secret },
      }),
    );
    expect(error.message).toContain('(in env GRPC_PULSE_TEST_BAD_TOKEN)');
    expect(error.message).not.toContain('sk-live');
  });

  it('keeps a bad secret out of validate and run output', async () => {
    const secret = 'tok\u00e9n-never-shown-4711';
    const env = { ...process.env, GRPC_PULSE_TEST_BAD_TOKEN: secret };
    for (const command of ['validate', 'run']) {
      const child = startCli([command, '--config', `${DIR}/invalid-secret-not-printable.yaml`], env);
      const done = await child.exited;
      expect(done.code).toBe(2);
      expect(done.stderr).toContain('targets[0].metadata.authorization.from_env');
      expect(done.stderr + done.stdout).not.toContain('never-shown');
    }
  });
});

describe('check refuses metadata grpc-js would throw on', () => {
  it.each([
    ['x-note: café', 'non-ASCII'],
    ['te: trailers', 'set by gRPC/HTTP2 itself'],
    ['trace-bin: not base64!', 'base64'],
  ])('--rpc-header "%s" is a bad argument (exit 1), not a stack trace', async (header, words) => {
    const result = await runCli(['check', '--addr', '127.0.0.1:1', '--rpc-header', header]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(words);
    expect(result.stderr).not.toContain('    at ');
  });
});
