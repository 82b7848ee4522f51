// `grpc-pulse diagnose --idle-test / --ping-test` against real servers and intermediaries: a grpc-js
// server's idle timeout (GOAWAY) and connection age, TCP proxies that drop idle connections with FIN
// or RST, and C-core's ping enforcement (python3-grpcio). Each asserts the finding and the exit code.

import { afterEach, describe, expect, it } from 'vitest';
import { ChildServer, DEBIAN_PYTHON, hasPythonGrpc } from './harness/child-server.js';
import { runCli } from './harness/cli-process.js';
import { IdleClosingProxy } from './harness/diagnose-idle-proxy.js';
import { diagnoseJson } from './harness/diagnose-run.js';
import { DiagnoseGrpcServer } from './harness/diagnose-servers.js';
import { needs } from './harness/needs.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function grpcServer(serverOptions: Record<string, number> = {}): Promise<DiagnoseGrpcServer> {
  const server = await new DiagnoseGrpcServer({ health: { '': 'SERVING' }, serverOptions }).start();
  cleanup.push(() => server.stop());
  return server;
}

describe('grpc-pulse diagnose --idle-test', () => {
  it('a server idle timeout (grpc.max_connection_idle_ms): server_goaway at its cutoff; busy stays open', async () => {
    const server = await grpcServer({ 'grpc.max_connection_idle_ms': 1500 });
    const run = await diagnoseJson([server.address, '--idle-test', '3s']);
    expect(run.code).toBe(0);
    expect(run.report.findings.idle_cutoff_by).toBe('server_goaway');
    expect(run.report.findings.idle_cutoff_seconds).toBeGreaterThanOrEqual(1.4);
    expect(run.report.findings.idle_cutoff_seconds).toBeLessThanOrEqual(2.9);
    expect(run.step('idle-test').status).toBe('ok');
    expect(run.step('idle-test').detail).toMatch(/GOAWAY code 0/);
    // The Watch call keeps the other connection out of the idle timeout.
    expect(run.step('max-connection-age').detail).toMatch(/still open after 3\.00 s/);
    expect(run.report.findings.max_connection_age_seconds).toBeUndefined();
  });

  it('C-core max_connection_idle (python3-grpcio): server_goaway with its debug data', async (context) => {
    needs(context, hasPythonGrpc(), `python3-grpcio for ${DEBIAN_PYTHON}`);
    const server = await ChildServer.start(DEBIAN_PYTHON, [
      'test/fixtures/python/health_server.py',
      '--max-idle-ms',
      '1500',
    ]);
    cleanup.push(() => server.kill());
    const run = await diagnoseJson([server.address, '--idle-test', '3s']);
    expect(run.code).toBe(0);
    expect(run.report.findings.idle_cutoff_by).toBe('server_goaway');
    expect(run.report.findings.idle_cutoff_seconds).toBeGreaterThanOrEqual(1.4);
    expect(run.report.findings.idle_cutoff_seconds).toBeLessThanOrEqual(2.9);
    expect(run.step('idle-test').detail).toMatch(/GOAWAY code \d+ debug data "[^"]*idle[^"]*"/);
  });

  it('max_connection_age: the busy connection is drained with GOAWAY NO_ERROR "max_age"', async () => {
    const server = await grpcServer({ 'grpc.max_connection_age_ms': 2000 });
    const run = await diagnoseJson([server.address, '--idle-test', '5s']);
    expect(run.code).toBe(0);
    const age = run.report.findings.max_connection_age_seconds;
    // grpc-js adds ±10% jitter to the age.
    expect(age).toBeGreaterThanOrEqual(1.7);
    expect(age).toBeLessThanOrEqual(2.8);
    expect(run.step('max-connection-age').detail).toMatch(/GOAWAY code 0 debug data "max_age"/);
    // The idle connection got the same drain: an age limit, not an idle cutoff.
    expect(run.report.findings.idle_cutoff_by).toBe('none_within_test');
    expect(run.report.findings.idle_cutoff_seconds).toBeUndefined();
  });

  for (const how of ['close', 'reset'] as const) {
    it(`an intermediary that ${how === 'close' ? 'closes (FIN)' : 'resets (RST)'} idle connections: its cutoff within a second, long before --idle-test 20s ends`, async () => {
      const server = await grpcServer();
      const proxy = await new IdleClosingProxy(server.port, 2000, how).start();
      cleanup.push(() => proxy.close());
      const run = await diagnoseJson([proxy.address, '--idle-test', '20s']);
      expect(run.code).toBe(0);
      const { idle_cutoff_by, idle_cutoff_seconds } = run.report.findings;
      expect(idle_cutoff_by).toBe(how === 'close' ? 'intermediary_close' : 'intermediary_reset');
      expect(Math.abs((idle_cutoff_seconds ?? 0) - 2)).toBeLessThanOrEqual(1);
      const idle = run.step('idle-test');
      expect(idle.status).toBe('warn');
      expect(idle.detail).toMatch(how === 'close' ? /closed \(FIN\)/ : /reset \(RST\)/);
      expect(idle.fix).toMatch(/keepalive\.time below the cutoff, e\.g\. 1s/);
      // A quiet Watch stream is idle to a byte-counting intermediary too.
      expect(run.step('max-connection-age').status).toBe('warn');
      expect(proxy.droppedAfterMs.length).toBeGreaterThanOrEqual(2);
      // Reported when it happened, not at the end of the 20 s test.
      expect(run.ms).toBeLessThan(12_000);
    });
  }

  it('as a process: --idle-test 20s through an idle-closing proxy prints the cutoff and exits right after it', async () => {
    const server = await grpcServer();
    const proxy = await new IdleClosingProxy(server.port, 3000, 'close').start();
    cleanup.push(() => proxy.close());
    const started = performance.now();
    const result = await runCli(['diagnose', proxy.address, '--idle-test', '20s'], 25_000);
    const seconds = (performance.now() - started) / 1000;
    expect(result.code).toBe(0);
    const cutoff = Number(/idle connection was closed \(FIN\) after ([\d.]+) s/.exec(result.stdout)?.[1]);
    expect(Math.abs(cutoff - 3)).toBeLessThanOrEqual(1);
    expect(result.stdout).toMatch(/\nfindings: idle cutoff [\d.]+ s \(intermediary_close\)\n/);
    expect(result.stdout).toMatch(/\nkeepalive: keepalive\.time less than [\d.]+ s/);
    // No timer of the 20 s test holds the process open once both connections are gone.
    expect(seconds).toBeLessThan(12);
  });

  it('no cutoff within the test: none_within_test, exit 0', async () => {
    const server = await grpcServer();
    const run = await diagnoseJson([server.address, '--idle-test', '1500ms']);
    expect(run.code).toBe(0);
    expect(run.report.findings.idle_cutoff_by).toBe('none_within_test');
    expect(run.step('idle-test').detail).toMatch(/still open after 1\.50 s/);
    expect(run.ms).toBeGreaterThanOrEqual(1400);
  });
});

describe('grpc-pulse diagnose --ping-test (C-core, python3-grpcio)', () => {
  it('brackets the server ping policy: GOAWAY too_many_pings below 300 ms, accepted above', async (context) => {
    needs(context, hasPythonGrpc(), `python3-grpcio for ${DEBIAN_PYTHON}`);
    const server = await ChildServer.start(DEBIAN_PYTHON, [
      'test/fixtures/python/health_server.py',
      '--min-ping-interval-ms',
      '300',
      '--max-ping-strikes',
      '2',
    ]);
    cleanup.push(() => server.kill());
    // Intervals 800, 400, 200, ... ms, three pings each (a fifth of the budget is headroom).
    const run = await diagnoseJson([server.address, '--ping-test', '--ping-budget', '6s']);
    expect(run.code).toBe(0);
    const step = run.step('ping-test');
    expect(step.status).toBe('ok');
    expect(step.detail).toMatch(/got GOAWAY ENHANCE_YOUR_CALM "too_many_pings"/);
    const rejected = run.report.findings.ping_policy_min_seconds ?? Number.NaN;
    expect(rejected).toBeLessThan(0.3);
    expect(step.detail).toMatch(/pings every 0\.40 s were accepted/);
    expect(step.fix).toMatch(/^keepalive\.time above 0\.20 s/);
  });

  it("C-core's default policy (5 min): rejected at the first interval, the minimum is above it", async (context) => {
    needs(context, hasPythonGrpc(), `python3-grpcio for ${DEBIAN_PYTHON}`);
    const server = await ChildServer.start(DEBIAN_PYTHON, ['test/fixtures/python/health_server.py']);
    cleanup.push(() => server.kill());
    // Intervals 400, 200, 100 ms: the first already earns the GOAWAY.
    const run = await diagnoseJson([server.address, '--ping-test', '--ping-budget', '3s']);
    expect(run.code).toBe(0);
    expect(run.report.findings.ping_policy_min_seconds).toBe(0.4);
    expect(run.step('ping-test').detail).toMatch(/the server's minimum ping interval is above 0\.40 s$/);
    expect(run.step('ping-test').fix).toMatch(/larger --ping-budget/);
    expect(run.ms).toBeLessThan(3000 + 2000);
  });

  it('a server without enforcement (grpc-js): no GOAWAY down to the smallest interval tried', async () => {
    const server = await grpcServer();
    const run = await diagnoseJson([server.address, '--ping-test', '--ping-budget', '1200ms']);
    expect(run.code).toBe(0);
    // Intervals 160 and 80 ms; a loaded machine may leave no time for the second.
    expect(run.step('ping-test').detail).toMatch(
      /^no ping enforcement seen down to pings every 0\.(16|08) s/,
    );
    expect(run.report.findings.ping_policy_min_seconds).toBeUndefined();
  });
});
