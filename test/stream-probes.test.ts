// Server-streaming rpc probes (`stream:` on an rpc) against a real grpc-js feed server: counted calls
// that end well or badly, held streams re-opened after their hold, a feed that pauses longer than
// max_gap (stream_stalled), a TCP proxy that freezes mid-stream, a max_connection_age drain (not a
// failure), expectations per message, and the config errors of streaming methods.

import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../src/config/load.js';
import { FEED_PROTO, FEED_PROTO_DIR, FeedTarget } from './harness/feed-target.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { TcpProxy } from './harness/tcp-proxy.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

async function feed(
  options: ConstructorParameters<typeof FeedTarget>[0] = {},
  reflection = false,
): Promise<FeedTarget> {
  const target = await new FeedTarget(options, reflection).start();
  cleanup.push(() => target.stop());
  return target;
}

const fromFiles = `proto: { files: ["${FEED_PROTO}"], include: ["${FEED_PROTO_DIR}"] }`;

/** A target "api" with one rpc `feed` of Feed/Subscribe; `fields` are its YAML lines (8-space indent). */
function streamConfig(address: string, fields: string, method = 'probetest.v1.Feed/Subscribe'): string {
  return testConfig(
    `  - name: api\n    address: "${address}"\n    health: []\n    rpcs:\n      - name: feed\n        method: ${method}\n        ${fromFiles}\n${fields}`,
  );
}

async function app(yamlText: string): Promise<RunningApp> {
  const running = await new RunningApp(yamlText).start();
  cleanup.push(() => running.close());
  return running;
}

const feedProbe = { target: 'api', probe: 'feed' };
const failures = (reason: string) => ({ ...feedProbe, reason });

describe('messages: N', () => {
  it('a call that delivers N messages, then OK, succeeds and counts them', async () => {
    const target = await feed();
    const running = await app(
      streamConfig(
        target.address,
        '        request: { count: 3, interval_ms: 20 }\n        interval: 2s\n        timeout: 1500ms\n        stream: { messages: 3, max_gap: 1s }\n        expect: { response: { state: LIVE } }\n',
      ),
    );
    await running.waitForMetricAtLeast(
      'grpc_probe_handled_total',
      { ...feedProbe, grpc_code: 'OK' },
      2,
      10_000,
    );
    expect(await running.metric('grpc_probe_success', feedProbe)).toBe(1);
    const messages = (await running.metric('grpc_probe_stream_messages_total', feedProbe)) ?? 0;
    const calls = (await running.metric('grpc_probe_stream_first_message_seconds_count', feedProbe)) ?? 0;
    expect(calls).toBeGreaterThanOrEqual(2);
    // Each call delivered its 3 messages (the scrape may fall between a call's messages and its report).
    expect(messages).toBeGreaterThanOrEqual(3 * calls);
    expect(messages).toBeLessThanOrEqual(3 * (calls + 1));
    const gap = (await running.metric('grpc_probe_stream_max_gap_seconds', feedProbe)) ?? -1;
    expect(gap).toBeGreaterThan(0);
    expect(gap).toBeLessThan(1);
    const failed = await running.byLabel('grpc_probe_failures_total', 'api', 'reason');
    expect(Object.values(failed).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('a stream the server ends with an error after its messages is judged by that status', async () => {
    const target = await feed();
    const running = await app(
      streamConfig(
        target.address,
        '        request: { count: 2, interval_ms: 20, code: 13, details: "feed broke" }\n        interval: 1s\n        timeout: 800ms\n        stream: { messages: 2 }\n',
      ),
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('rpc_error'), 1, 10_000);
    expect(await running.metric('grpc_probe_success', feedProbe)).toBe(0);
    expect(
      await running.metric('grpc_probe_handled_total', { ...feedProbe, grpc_code: 'Internal' }),
    ).toBeGreaterThanOrEqual(1);
    expect(await running.metric('grpc_probe_stream_messages_total', feedProbe)).toBeGreaterThanOrEqual(2);
    const status = await running.app.server.inject({ method: 'GET', url: '/api/v1/targets' });
    expect(status.body).toContain('feed broke');
  });

  it('too few messages before OK, too many, or a message that misses the expectation: assertion_failed', async () => {
    const target = await feed();
    const rpc = (name: string, request: string, stream: string, expectation = '') =>
      `      - name: ${name}\n        method: probetest.v1.Feed/Subscribe\n        ${fromFiles}\n        request: ${request}\n        interval: 1s\n        timeout: 800ms\n        stream: ${stream}\n${expectation}`;
    const running = await app(
      testConfig(
        `  - name: api\n    address: "${target.address}"\n    health: []\n    rpcs:\n${rpc('few', '{ count: 2, interval_ms: 10 }', '{ messages: 3 }')}${rpc('many', '{ count: 4, interval_ms: 10 }', '{ messages: 3 }')}${rpc('stale', '{ count: 3, interval_ms: 10, stale_after: 2 }', '{ messages: 3 }', '        expect: { response: { state: LIVE } }\n')}`,
      ),
    );
    for (const probe of ['few', 'many', 'stale']) {
      await running.waitForMetricAtLeast(
        'grpc_probe_failures_total',
        { target: 'api', probe, reason: 'assertion_failed' },
        1,
        10_000,
      );
    }
    const body = (await running.app.server.inject({ method: 'GET', url: '/api/v1/targets' })).body;
    expect(body).toContain('expected 3 messages, got 2 before OK');
    expect(body).toContain('more than the 3 messages expected');
    expect(body).toMatch(/message 3: [^"]*state/);
  });
});

describe('descriptors from server reflection', () => {
  it('probes a server-streaming method learnt by reflection', async () => {
    const target = await feed({}, true);
    const running = await app(
      testConfig(
        `  - name: api\n    address: "${target.address}"\n    health: []\n    rpcs:\n      - name: feed\n        method: probetest.v1.Feed/Subscribe\n        reflection: true\n        request: { interval_ms: 50 }\n        stream: { hold: 1m, max_gap: 2s }\n      - name: wrong-shape\n        method: probetest.v1.Feed/Get\n        reflection: true\n        stream: { messages: 1 }\n`,
      ),
    );
    await running.waitForMetric('grpc_probe_success', feedProbe, 1, 10_000);
    await running.waitForMetricAtLeast('grpc_probe_stream_messages_total', feedProbe, 2, 10_000);
    // A shape the config did not say is found at first contact and fails the probe, saying why.
    await running.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { target: 'api', probe: 'wrong-shape', reason: 'assertion_failed' },
      1,
      10_000,
    );
    const body = (await running.app.server.inject({ method: 'GET', url: '/api/v1/targets' })).body;
    expect(body).toContain(
      'probetest.v1.Feed/Get is a unary method; stream: applies to server-streaming methods only',
    );
  });
});

describe('hold: D', () => {
  it('holds a live feed, re-opens it after the hold, and reports messages, first-message time and gaps', async () => {
    const target = await feed();
    const running = await app(
      streamConfig(
        target.address,
        '        request: { interval_ms: 50 }\n        stream: { hold: 1s, max_gap: 1500ms, first_message_within: 2s }\n',
      ),
    );
    await running.waitForMetric('grpc_probe_success', feedProbe, 1, 10_000);
    await running.waitForMetricAtLeast('grpc_probe_attempts_total', feedProbe, 3, 15_000);
    // The attempt is counted as the stream opens; the server sees it a moment later.
    await waitFor(
      () => target.opened,
      (n) => n >= 3,
      { timeoutMs: 5000, what: 'the server to see 3 streams' },
    );
    expect(await running.metric('grpc_probe_stream_messages_total', feedProbe)).toBeGreaterThanOrEqual(10);
    expect(
      await running.metric('grpc_probe_stream_first_message_seconds_count', feedProbe),
    ).toBeGreaterThanOrEqual(2);
    expect(await running.metric('grpc_probe_success', feedProbe)).toBe(1);
    const failed = await running.byLabel('grpc_probe_failures_total', 'api', 'reason');
    expect(Object.values(failed).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('a feed that pauses longer than max_gap is stream_stalled within max_gap, and re-opened', async () => {
    const target = await feed();
    const running = await app(
      streamConfig(
        target.address,
        '        request: { interval_ms: 50, pause_after: 5, pause_ms: 60000 }\n        stream: { hold: 1m, max_gap: 600ms }\n',
      ),
    );
    await running.waitForMetric('grpc_probe_success', feedProbe, 1, 10_000);
    await running.waitForMetric('grpc_probe_success', feedProbe, 0, 10_000);
    // Turned to 0 no earlier than max_gap after the server's last message, and not long after it.
    const sinceLastWrite = performance.now() - target.lastWriteAt;
    expect(sinceLastWrite).toBeGreaterThanOrEqual(600);
    // Generous for a loaded machine: the stall timer fires at max_gap, not at some later deadline (1m).
    expect(sinceLastWrite).toBeLessThan(600 + 4000);
    expect(await running.metric('grpc_probe_failures_total', failures('stream_stalled'))).toBe(1);
    expect(await running.metric('grpc_probe_stream_max_gap_seconds', feedProbe)).toBeGreaterThanOrEqual(0.6);
    const body = (await running.app.server.inject({ method: 'GET', url: '/api/v1/targets' })).body;
    expect(body).toMatch(/no message for \d+ ms after 5 \(max_gap 600 ms\)/);
    // Re-opened with backoff: the next stream delivers again, then stalls again.
    await waitFor(
      () => target.opened,
      (n) => n >= 2,
      { timeoutMs: 10_000, what: 'the stream to be re-opened' },
    );
    await running.waitForMetricAtLeast('grpc_probe_failures_total', failures('stream_stalled'), 2, 15_000);
  });

  it('a TCP proxy that freezes mid-stream: stream_stalled, though the socket stays open', async () => {
    const target = await feed();
    const proxy = await new TcpProxy(target.port).start();
    cleanup.push(() => proxy.close());
    const running = await app(
      streamConfig(
        proxy.address,
        '        request: { interval_ms: 50 }\n        stream: { hold: 1m, max_gap: 700ms }\n',
      ),
    );
    await running.waitForMetric('grpc_probe_success', feedProbe, 1, 10_000);
    await running.waitForMetricAtLeast('grpc_probe_stream_messages_total', feedProbe, 3, 10_000);
    proxy.freeze();
    const frozenAt = performance.now();
    await running.waitForMetric('grpc_probe_success', feedProbe, 0, 10_000);
    expect(performance.now() - frozenAt).toBeGreaterThanOrEqual(600);
    expect(
      await running.metric('grpc_probe_failures_total', failures('stream_stalled')),
    ).toBeGreaterThanOrEqual(1);
    expect(
      await running.metric('grpc_probe_disconnects_total', { target: 'api', reason: 'connection_reset' }),
    ).toBe(0);
  });

  it('a max_connection_age drain re-opens the held stream on a new connection: not a failure', async () => {
    const target = await feed({ 'grpc.max_connection_age_ms': 800, 'grpc.max_connection_age_grace_ms': 300 });
    const running = await app(
      streamConfig(
        target.address,
        '        request: { interval_ms: 50 }\n        stream: { hold: 1m, max_gap: 1s }\n',
      ),
    );
    await running.waitForMetricAtLeast(
      'grpc_probe_disconnects_total',
      { target: 'api', reason: 'goaway_no_error' },
      2,
      15_000,
    );
    await waitFor(
      () => target.opened,
      (n) => n >= 3,
      { timeoutMs: 10_000, what: 'streams re-opened after drains' },
    );
    await running.waitForMetric('grpc_probe_success', feedProbe, 1, 5000);
    const failed = await running.byLabel('grpc_probe_failures_total', 'api', 'reason');
    expect(Object.values(failed).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it('/probe answers with the first message of a held stream', async () => {
    const target = await feed();
    const running = await app(
      streamConfig(
        target.address,
        '        request: { interval_ms: 50 }\n        stream: { hold: 1m, max_gap: 1s }\n',
      ),
    );
    const response = await running.app.server.inject({ method: 'GET', url: '/probe?target=api&module=feed' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toMatch(/^probe_success 1$/m);
  });
});

describe('config', () => {
  const load = (text: string) => () => parseConfigText(text, 'rpc.yaml', { baseDir: process.cwd(), env: {} });
  it.each([
    [
      'a client-streaming method',
      'probetest.v1.Feed/Upload',
      '        stream: { messages: 1 }\n',
      'rpc.yaml:9: targets[0].rpcs[0].method: probetest.v1.Feed/Upload is a client-streaming method; only unary and server-streaming methods can be probed',
    ],
    [
      'a bidi-streaming method',
      'probetest.v1.Feed/Chat',
      '        stream: { messages: 1 }\n',
      'rpc.yaml:9: targets[0].rpcs[0].method: probetest.v1.Feed/Chat is a bidi-streaming method; only unary and server-streaming methods can be probed',
    ],
    [
      'a server-streaming method without stream:',
      'probetest.v1.Feed/Subscribe',
      '',
      'rpc.yaml:9: targets[0].rpcs[0].method: probetest.v1.Feed/Subscribe is a server-streaming method; probe it with stream: { messages: N } or { hold: D }',
    ],
    [
      'stream: on a unary method',
      'probetest.v1.Feed/Get',
      '        stream: { messages: 1 }\n',
      'rpc.yaml:9: targets[0].rpcs[0].method: probetest.v1.Feed/Get is a unary method; stream: applies to server-streaming methods only',
    ],
    [
      'both messages and hold',
      'probetest.v1.Feed/Subscribe',
      '        stream: { messages: 1, hold: 1m, max_gap: 1s }\n',
      'rpc.yaml:11: targets[0].rpcs[0].stream: needs exactly one of messages: N or hold: DURATION',
    ],
    [
      'hold without max_gap',
      'probetest.v1.Feed/Subscribe',
      '        stream: { hold: 1m }\n',
      'rpc.yaml:11: targets[0].rpcs[0].stream.max_gap: hold needs max_gap: without it a stream that stops sending is never noticed',
    ],
    [
      'a bad duration',
      'probetest.v1.Feed/Subscribe',
      '        stream: { hold: 1m, max_gap: soon }\n',
      'rpc.yaml:11: targets[0].rpcs[0].stream.max_gap: invalid duration "soon"',
    ],
  ])('refuses %s, at its position', (_name, method, fields, message) => {
    expect(load(streamConfig('127.0.0.1:1', fields, method))).toThrow(message);
  });

  it('accepts a held stream and a counted one', () => {
    const config = parseConfigText(
      streamConfig('127.0.0.1:1', '        stream: { hold: 5m, max_gap: 10s, first_message_within: 2s }\n'),
      'rpc.yaml',
      { baseDir: process.cwd(), env: {} },
    );
    expect(config.targets[0]?.rpcs[0]?.stream).toEqual({
      hold: 300_000,
      max_gap: 10_000,
      first_message_within: 2000,
    });
  });
});
