// Synthetic RPC probes against a real grpc-js server of test/fixtures/protos: descriptors from .proto
// files and from server reflection (v1 and v1alpha), expectations that pass and fail, metadata with
// secrets, mTLS, and a server restarted with a changed schema.

import { ServerCredentials } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../src/config/load.js';
import { ECHO_PROTO, ECHO_PROTO_DIR, EchoTarget } from './harness/echo-target.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { makeTlsMaterial } from './harness/tls-material.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function echoTarget(options: ConstructorParameters<typeof EchoTarget>[0] = {}): Promise<EchoTarget> {
  const target = await new EchoTarget(options).start();
  cleanup.push(() => target.stop());
  return target;
}

const fromFiles = `proto: { files: ["${ECHO_PROTO}"], include: ["${ECHO_PROTO_DIR}"] }`;

/** A target "api" with no health probe and the given rpcs block (YAML list items, 6-space indent). */
function rpcConfig(address: string, rpcsYaml: string, targetExtra = ''): string {
  return testConfig(
    `  - name: api\n    address: "${address}"\n    health: []\n${targetExtra}    rpcs:\n${rpcsYaml}`,
  );
}

async function app(yamlText: string, env: NodeJS.ProcessEnv = {}): Promise<RunningApp> {
  const running = await new RunningApp(yamlText, { env }).start();
  cleanup.push(() => running.close());
  return running;
}

const handled = (probe: string, grpc_code = 'OK') => ({ target: 'api', probe, grpc_code });
const failures = (probe: string, reason: string) => ({ target: 'api', probe, reason });

describe('descriptors', () => {
  it.each([
    ['.proto files', fromFiles, 'both'],
    ['reflection v1', 'reflection: true', 'v1'],
    ['reflection v1alpha', 'reflection: true', 'v1alpha'],
  ] as const)('calls a real method described by %s', async (_name, source, reflection) => {
    const target = await echoTarget({ reflection });
    const running = await app(
      rpcConfig(
        target.address,
        `      - name: echo\n        method: probetest.v1.Echo/Echo\n        ${source}\n        request: { message: "hello", tags: [a, b] }\n        interval: 1s\n        timeout: 500ms\n        expect: { response: { message: "hello", state: ACTIVE, count: "9007199254740993", tags: [a] } }\n`,
      ),
    );
    await running.waitForMetricAtLeast('grpc_probe_handled_total', handled('echo'), 1);
    await running.waitForMetric('grpc_probe_success', { target: 'api', probe: 'echo' }, 1);
    expect(
      await running.metric('grpc_probe_duration_seconds_count', { target: 'api', probe: 'echo' }),
    ).toBeGreaterThanOrEqual(1);
    // The buckets resolve loopback calls (sub-millisecond) as well as slow ones (up to 30 s).
    for (const le of ['0.00025', '0.001', '30', '+Inf']) {
      expect(
        await running.metric('grpc_probe_duration_seconds_bucket', { target: 'api', probe: 'echo', le }),
      ).toBeDefined();
    }
  });

  it('reports a server without reflection as unimplemented, with a clear detail', async () => {
    const target = await echoTarget({ reflection: 'none' });
    const running = await app(
      rpcConfig(
        target.address,
        '      - name: echo\n        method: probetest.v1.Echo/Echo\n        reflection: true\n',
      ),
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('echo', 'unimplemented'), 1);
    const api = (await running.app.server.inject('/api/v1/targets')).json();
    expect(api.targets[0].probes.echo.lastDetails).toContain('server reflection is not available');
  });

  it('checks the request against the reflected schema at first contact', async () => {
    const target = await echoTarget();
    const running = await app(
      rpcConfig(
        target.address,
        '      - name: echo\n        method: probetest.v1.Echo/Echo\n        reflection: true\n        request: { mesage: "typo" }\n',
      ),
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('echo', 'assertion_failed'), 1);
    const api = (await running.app.server.inject('/api/v1/targets')).json();
    expect(api.targets[0].probes.echo.lastDetails).toBe(
      'probetest.v1.Echo/Echo (from server reflection): request.mesage: unknown field "mesage" in probetest.v1.EchoRequest',
    );
  });

  it('learns the schema again when the server comes back with a changed one', async () => {
    const target = await echoTarget();
    const running = await app(
      rpcConfig(
        target.address,
        '      - name: echo\n        method: probetest.v1.Echo/Echo\n        reflection: true\n        request: { message: "hi" }\n        interval: 1s\n        timeout: 500ms\n        expect: { response: { message: "hi" } }\n',
      ),
    );
    await running.waitForMetricAtLeast('grpc_probe_handled_total', handled('echo'), 1);
    // The next release renumbers EchoRequest.message: descriptors learnt before would send field 1.
    await target.stop();
    await target.start({ renumbered: true });
    const before = (await running.metric('grpc_probe_handled_total', handled('echo'))) ?? 0;
    await running.waitForMetricAtLeast('grpc_probe_handled_total', handled('echo'), before + 1, 8000);
    await running.waitForMetric('grpc_probe_success', { target: 'api', probe: 'echo' }, 1);
    expect(await running.metric('grpc_probe_failures_total', failures('echo', 'assertion_failed'))).toBe(0);
  });
});

describe('expectations', () => {
  async function probeWith(rpcYaml: string) {
    const target = await echoTarget();
    return app(
      rpcConfig(
        target.address,
        `      - name: p\n        method: probetest.v1.Echo/Echo\n        ${fromFiles}\n        interval: 1s\n        timeout: 800ms\n${rpcYaml}`,
      ),
    );
  }

  it('passes an expected non-OK status and counts its code', async () => {
    const running = await probeWith('        request: { code: 5 }\n        expect: { code: NOT_FOUND }\n');
    await running.waitForMetricAtLeast('grpc_probe_handled_total', handled('p', 'NotFound'), 1);
    await running.waitForMetric('grpc_probe_success', { target: 'api', probe: 'p' }, 1);
  });

  it('fails when the status differs from the expected one', async () => {
    const running = await probeWith(
      '        request: { message: "x" }\n        expect: { code: NOT_FOUND }\n',
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('p', 'assertion_failed'), 1);
    const api = (await running.app.server.inject('/api/v1/targets')).json();
    expect(api.targets[0].probes.p.lastDetails).toBe('expected status NOT_FOUND, got OK');
  });

  it('counts a server error as rpc_error when the probe expects OK', async () => {
    const running = await probeWith('        request: { code: 7, details: "nope" }\n');
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('p', 'rpc_error'), 1);
    expect(
      await running.metric('grpc_probe_handled_total', handled('p', 'PermissionDenied')),
    ).toBeGreaterThanOrEqual(1);
  });

  it('fails a response that does not match, and says where', async () => {
    const running = await probeWith(
      '        request: { message: "got" }\n        expect: { response: { message: "wanted", state: ACTIVE } }\n',
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('p', 'assertion_failed'), 1);
    const api = (await running.app.server.inject('/api/v1/targets')).json();
    expect(api.targets[0].probes.p.lastDetails).toBe('response.message: expected "wanted", got "got"');
    expect(api.targets[0].recentFailures[0]).toMatchObject({
      probe: 'p',
      reason: 'assertion_failed',
      grpcCode: 'OK',
    });
    expect(running.logs.filter((l) => l.includes('"probe failing"'))).toHaveLength(1);
  });

  it('fails a call slower than max_latency', async () => {
    const running = await probeWith(
      '        request: { delay_ms: 150 }\n        expect: { max_latency: 50ms }\n',
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('p', 'assertion_failed'), 1);
    const api = (await running.app.server.inject('/api/v1/targets')).json();
    // The server waits 150 ms: the latency reported is at least that (a loaded machine adds more).
    const details: string = api.targets[0].probes.p.lastDetails;
    const match = /^latency (\d+\.\d) ms is over max_latency 50 ms$/.exec(details);
    expect(match, details).not.toBeNull();
    expect(Number(match?.[1])).toBeGreaterThanOrEqual(150);
  });

  it('reports a call slower than the timeout as deadline_exceeded', async () => {
    const running = await probeWith('        request: { delay_ms: 2000 }\n');
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('p', 'deadline_exceeded'), 1);
  });
});

describe('metadata and secrets', () => {
  it('sends target and probe metadata, and the secret appears in no log line and no metric', async () => {
    const target = await echoTarget();
    const secret = 'Bearer s3cr3t-token-value';
    const running = await app(
      rpcConfig(
        target.address,
        `      - name: p\n        method: probetest.v1.Echo/Echo\n        ${fromFiles}\n        metadata: { x-probe: "1" }\n        request: { message: "m" }\n        expect: { response: { message: "other" } }\n        interval: 1s\n        timeout: 500ms\n`,
        '    metadata: { authorization: { from_env: API_TOKEN } }\n',
      ),
      { API_TOKEN: secret },
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('p', 'assertion_failed'), 1);
    const seen = target.seen.at(-1);
    expect(seen?.get('authorization')).toEqual([secret]);
    expect(seen?.get('x-probe')).toEqual(['1']);
    const api = (await running.app.server.inject('/api/v1/targets')).body;
    const page = (await running.app.server.inject('/')).body;
    for (const text of [await running.metricsText(), api, page, running.logs.join('\n')]) {
      expect(text).not.toContain('s3cr3t');
    }
  });
});

describe('mTLS', () => {
  it('probes an rpc over mutual TLS with certificates made for this run', async () => {
    const tls = makeTlsMaterial();
    const credentials = ServerCredentials.createSsl(
      tls.caPem,
      [{ cert_chain: tls.server.certPem, private_key: tls.server.keyPem }],
      true,
    );
    const target = await echoTarget({ credentials });
    const running = await app(
      rpcConfig(
        target.address,
        `      - name: p\n        method: probetest.v1.Echo/Echo\n        reflection: true\n        request: { message: "tls" }\n        expect: { response: { message: "tls" } }\n`,
        `    tls: { ca_file: "${tls.caFile}", cert_file: "${tls.client.cert}", key_file: "${tls.client.key}", server_name: localhost }\n`,
      ),
    );
    await running.waitForMetric('grpc_probe_success', { target: 'api', probe: 'p' }, 1);
  });
});

describe('config checks with .proto files', () => {
  function errors(rpcYaml: string): string[] {
    const text = rpcConfig(
      '127.0.0.1:1',
      `      - name: p\n        method: probetest.v1.Echo/Echo\n        ${fromFiles}\n${rpcYaml}`,
    );
    try {
      parseConfigText(text, 'rpc.yaml', { baseDir: process.cwd(), env: {} });
    } catch (err) {
      if (err instanceof ConfigError) return err.message.split('\n');
      throw err;
    }
    return [];
  }

  it('rejects a request field that does not exist, at its path and line', () => {
    expect(errors('        request: { id: "x" }\n')).toEqual([
      'rpc.yaml:11: targets[0].rpcs[0].request.id: unknown field "id" in probetest.v1.EchoRequest',
    ]);
  });

  it('rejects values of the wrong type, deep inside the request', () => {
    expect(
      errors(
        '        request:\n          delay_ms: "soon"\n          tags: [1]\n          nested: { id: 5 }\n',
      ),
    ).toEqual([
      'rpc.yaml:12: targets[0].rpcs[0].request.delay_ms: expected an integer, got string "soon"',
      'rpc.yaml:13: targets[0].rpcs[0].request.tags[0]: expected a string, got number 1',
      'rpc.yaml:14: targets[0].rpcs[0].request.nested.id: expected a string, got number 5',
    ]);
  });

  it('rejects a method that does not exist', () => {
    const text = rpcConfig(
      '127.0.0.1:1',
      `      - name: p\n        method: probetest.v1.Echo/Shout\n        ${fromFiles}\n`,
    );
    expect(() => parseConfigText(text, 'rpc.yaml', { baseDir: process.cwd(), env: {} })).toThrow(
      'rpc.yaml:9: targets[0].rpcs[0].method: service probetest.v1.Echo has no method Shout',
    );
  });

  it('rejects a server-streaming method without stream:, saying how to probe it', () => {
    const text = rpcConfig(
      '127.0.0.1:1',
      `      - name: p\n        method: probetest.v1.Echo/Watch\n        ${fromFiles}\n`,
    );
    expect(() => parseConfigText(text, 'rpc.yaml', { baseDir: process.cwd(), env: {} })).toThrow(
      'rpc.yaml:9: targets[0].rpcs[0].method: probetest.v1.Echo/Watch is a server-streaming method; probe it with stream: { messages: N } or { hold: D }',
    );
  });

  it('rejects a .proto file that cannot be loaded', () => {
    const text = rpcConfig(
      '127.0.0.1:1',
      '      - name: p\n        method: probetest.v1.Echo/Echo\n        proto: { files: [no/such.proto] }\n',
    );
    expect(() => parseConfigText(text, 'rpc.yaml', { baseDir: process.cwd(), env: {} })).toThrow(
      /^rpc\.yaml:10: targets\[0\]\.rpcs\[0\]\.proto\.files: cannot load: ENOENT/,
    );
  });
});

describe('demo', () => {
  it('probes the demo Echo rpc out of the box', async () => {
    // The demo follows the defaults; a short interval, because an rpc probe's first run falls at a
    // random point of its whole interval (src/probes/scheduler.ts).
    const running = await app(
      'server: { listen: "127.0.0.1:0" }\ndemo: { enabled: true }\ndefaults: { interval: 2s, timeout: 1s }\n',
    );
    await waitFor(
      () => running.metric('grpc_probe_handled_total', { target: 'demo', probe: 'echo', grpc_code: 'OK' }),
      (v) => v !== undefined && v >= 1,
      { timeoutMs: 5000, what: 'a first demo echo call' },
    );
    expect(await running.metric('grpc_probe_success', { target: 'demo', probe: 'echo' })).toBe(1);
  });
});
