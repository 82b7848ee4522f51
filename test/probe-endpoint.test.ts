// GET /probe (blackbox_exporter's multi-target pattern) against real servers: one probe now, only its
// result in the answer, within Prometheus' scrape timeout, without touching the daemon's counters.

import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ECHO_PROTO, ECHO_PROTO_DIR, EchoTarget } from './harness/echo-target.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { parseSamples, sampleValue } from './harness/prom-text.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { tempDir } from './harness/services.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function setup() {
  const health = await new GrpcTarget({
    health: { '': 'SERVING', 'orders.v1.Orders': 'NOT_SERVING' },
  }).start();
  cleanup.push(() => health.stop());
  const echo = await new EchoTarget().start();
  cleanup.push(() => echo.stop());
  const app = await new RunningApp(
    testConfig(
      `  - name: orders\n    address: "${health.address}"\n    health: [ { service: "" }, { service: orders.v1.Orders } ]\n` +
        `  - name: api\n    address: "${echo.address}"\n    timeout: 1500ms\n    health: []\n    rpcs:\n` +
        `      - name: echo\n        method: probetest.v1.Echo/Echo\n        proto: { files: ["${ECHO_PROTO}"], include: ["${ECHO_PROTO_DIR}"] }\n        request: { message: "hi" }\n        interval: 1m\n` +
        `      - name: slow\n        method: probetest.v1.Echo/Echo\n        proto: { files: ["${ECHO_PROTO}"], include: ["${ECHO_PROTO_DIR}"] }\n        request: { delay_ms: 1400 }\n        interval: 1m\n`,
    ),
  ).start();
  cleanup.push(() => app.close());
  return app;
}

const probe = (app: RunningApp, query: string, headers: Record<string, string> = {}) =>
  app.app.server.inject({ method: 'GET', url: `/probe?${query}`, headers });

describe('/probe', () => {
  it('runs a health module and answers with only its result', async () => {
    const app = await setup();
    const response = await probe(app, 'target=orders&module=health');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toContain('text/plain');
    expect(sampleValue(response.body, 'probe_success')).toBe(1);
    expect(sampleValue(response.body, 'probe_grpc_status_code')).toBe(0);
    expect(sampleValue(response.body, 'probe_grpc_healthcheck_response', { serving_status: 'SERVING' })).toBe(
      1,
    );
    expect(sampleValue(response.body, 'probe_duration_seconds')).toBeGreaterThan(0);
    expect(parseSamples(response.body).some((s) => s.name.startsWith('grpc_probe_health'))).toBe(false);
  });

  it('reports a failing module with its classified reason', async () => {
    const app = await setup();
    const response = await probe(app, 'target=orders&module=health:orders.v1.Orders');
    expect(sampleValue(response.body, 'probe_success')).toBe(0);
    expect(sampleValue(response.body, 'grpc_probe_failure_reason', { reason: 'not_serving' })).toBe(1);
    expect(sampleValue(response.body, 'grpc_probe_failure_reason', { reason: 'unknown' })).toBe(0);
  });

  it('runs an rpc module, and does not count toward the daemon metrics', async () => {
    const app = await setup();
    // The schedule's first attempt comes within a second of the start, the next a minute later: wait
    // for the first, so that only /probe could move the counter while it runs.
    await app.waitForMetricAtLeast('grpc_probe_attempts_total', { target: 'api', probe: 'echo' }, 1);
    const before = await app.metric('grpc_probe_attempts_total', { target: 'api', probe: 'echo' });
    const response = await probe(app, 'target=api&module=echo');
    expect(sampleValue(response.body, 'probe_success')).toBe(1);
    expect(await app.metric('grpc_probe_attempts_total', { target: 'api', probe: 'echo' })).toBe(before);
  });

  it('answers within the scrape timeout, less a margin', async () => {
    const app = await setup();
    const started = performance.now();
    const response = await probe(app, 'target=api&module=slow', {
      'x-prometheus-scrape-timeout-seconds': '1',
    });
    const elapsed = performance.now() - started;
    expect(sampleValue(response.body, 'probe_success')).toBe(0);
    expect(sampleValue(response.body, 'grpc_probe_failure_reason', { reason: 'deadline_exceeded' })).toBe(1);
    // The 1 s scrape budget less 0.5 s: the server's 1.4 s answer is not waited for.
    expect(elapsed).toBeLessThan(1000);
  });

  it('answers 503 when the target is reloaded away while its probe runs', async () => {
    const echo = await new EchoTarget().start();
    cleanup.push(() => echo.stop());
    const rpc = (name: string, request: string) =>
      `      - name: ${name}\n        method: probetest.v1.Echo/Echo\n        proto: { files: ["${resolve(ECHO_PROTO)}"], include: ["${resolve(ECHO_PROTO_DIR)}"] }\n        request: ${request}\n        interval: 1h\n`;
    const target = (name: string) =>
      `  - name: ${name}\n    address: "${echo.address}"\n    timeout: 1500ms\n    health: []\n    rpcs:\n${rpc('slow', '{ delay_ms: 1400 }')}`;
    const file = `${tempDir('probe-reload-')}/config.yaml`;
    writeFileSync(file, testConfig(target('api')));
    const app = await new RunningApp('', { configFile: file }).start();
    cleanup.push(() => app.app.close());
    // The schedule's first call falls at a random point of the hour (scheduler.ts): start ours and wait
    // until it has arrived.
    const before = echo.seen.length;
    const answer = probe(app, 'target=api&module=slow');
    await waitFor(
      () => echo.seen.length,
      (n) => n > before,
      { timeoutMs: 5000, what: 'the /probe call' },
    );
    writeFileSync(file, testConfig(target('other')));
    expect(await app.app.reload()).toEqual({ ok: true });
    const response = await answer;
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('probe cancelled');
  });

  it('rejects a missing or unknown target and an unknown module', async () => {
    const app = await setup();
    expect((await probe(app, 'module=health')).statusCode).toBe(400);
    expect((await probe(app, 'target=nope')).statusCode).toBe(404);
    const unknown = await probe(app, 'target=orders&module=nope');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('known: health, health:orders.v1.Orders');
  });
});
