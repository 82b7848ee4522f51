// The built CLI as a child process: exit codes of validate, the daemon serving /metrics on the demo,
// and a clean, prompt exit on SIGTERM.

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli, waitForUrl } from './harness/cli-process.js';
import { sampleValue } from './harness/prom-text.js';
import { waitFor } from './harness/wait-for.js';

describe('grpc-pulse validate', () => {
  it('exits 0 for a valid file', async () => {
    const result = await runCli(['validate', '--config', 'config/demo.yaml']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('config/demo.yaml: valid');
  });

  it('exits 2 and lists every error, without a stack trace', async () => {
    const result = await runCli(['validate', '--config', 'test/fixtures/config-multi/invalid-many.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(5);
    expect(result.stderr).toContain('invalid-many.yaml:3: targets[0].adress: unknown key "adress"');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('exits 2 for a missing file with one line', async () => {
    const result = await runCli(['validate', '--config', 'no/such.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('no/such.yaml: cannot read config file: no such file\n');
  });

  it('exits 1 for bad arguments and prints usage', async () => {
    const result = await runCli(['frobnicate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unknown command "frobnicate"');
    expect(result.stderr).toContain('Usage: grpc-pulse');
  });

  it('prints its version and help', async () => {
    const version = await runCli(['--version']);
    expect(version.stdout).toMatch(/^grpc-pulse \d+\.\d+\.\d+\n$/);
    const help = await runCli(['validate', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: grpc-pulse validate --config FILE');
  });
});

describe('grpc-pulse help', () => {
  const COMMANDS = ['run', 'validate', 'rules', 'check', 'diagnose', 'help'];

  it('lists every command for --help, -h and help', async () => {
    const outputs = await Promise.all([runCli(['--help']), runCli(['-h']), runCli(['help'])]);
    for (const result of outputs) {
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: grpc-pulse <command>');
      for (const command of COMMANDS) expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    }
    expect(new Set(outputs.map((r) => r.stdout)).size).toBe(1);
  });

  it("prints one command's usage for help COMMAND and COMMAND --help", async () => {
    for (const [args, usage] of [
      [['help', 'run'], 'Usage: grpc-pulse run'],
      [['run', '--help'], 'Usage: grpc-pulse run'],
      [['help', 'rules'], 'Usage: grpc-pulse rules'],
      [['help', 'check'], '-addr'],
      [['check', '--help'], '-addr'],
    ] as const) {
      const result = await runCli([...args]);
      expect(result.code, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toContain(usage);
      expect(result.stdout, args.join(' ')).not.toContain('Commands:');
    }
  });

  it('says a command is unknown, also when asked for its help', async () => {
    for (const args of [
      ['frobnicate', '--help'],
      ['help', 'frobnicate'],
    ]) {
      const result = await runCli(args);
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr, args.join(' ')).toContain('unknown command "frobnicate"');
    }
  });
});

describe('grpc-pulse run', () => {
  it('serves the demo target on /metrics and exits 0 on SIGTERM within 5 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grpc-pulse-cli-'));
    const config = join(dir, 'demo.yaml');
    writeFileSync(config, 'server: { listen: "127.0.0.1:0" }\ndemo: { enabled: true }\n');
    const child = startCli(['run', '--config', config]);
    try {
      const url = await waitForUrl(child);
      const labels = { target: 'demo', health_service: 'demo.Echo', status: 'SERVING' };
      await waitFor(
        async () =>
          sampleValue(await (await fetch(`${url}/metrics`)).text(), 'grpc_probe_health_status', labels),
        (value) => value === 1,
        { timeoutMs: 5000, what: 'demo.Echo SERVING in /metrics' },
      );
      const ready = await fetch(`${url}/-/ready`);
      expect(ready.status).toBe(200);
      // Logs are JSON lines.
      for (const line of child.stdout().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
      // The demo is a target like any other: the ready line counts it.
      const readyLine = child
        .stdout()
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { msg: string; targets?: number; demo?: boolean })
        .find((entry) => entry.msg === 'grpc-pulse ready');
      expect(readyLine).toMatchObject({ targets: 1, demo: true });

      const stopped = performance.now();
      child.process.kill('SIGTERM');
      const result = await child.exited;
      expect(result.code).toBe(0);
      expect(performance.now() - stopped).toBeLessThan(5000);
    } finally {
      child.process.kill('SIGKILL');
    }
  });

  it('exits 2 when the config is invalid', async () => {
    const result = await runCli(['run', '--config', 'test/fixtures/config/invalid-bad-address.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('targets[0].address');
  });
});
