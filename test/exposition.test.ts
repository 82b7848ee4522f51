// GET /metrics as Prometheus scrapes it: gzip when asked (and only then), the same series either way,
// rendered in pieces with the event loop free between them.

import { get } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricTable } from '../src/metrics/metric-table.js';
import { acceptsGzip, expositionBody } from '../src/server/exposition-response.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { parseSamples } from './harness/prom-text.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { runTool } from './harness/tools.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

/** One real HTTP GET: status, headers and the raw body bytes. */
function fetchRaw(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: Record<string, unknown>; raw: Buffer }>((resolve, reject) => {
    get(url, { headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, headers: response.headers, raw: Buffer.concat(chunks) }),
      );
      response.on('error', reject);
    }).on('error', reject);
  });
}

/** Series identities (name and labels) of an exposition, without their values. */
const identities = (text: string) =>
  parseSamples(text)
    .map((s) => `${s.name}${JSON.stringify(s.labels)}`)
    .sort();

describe('/metrics encoding', () => {
  it('answers gzip when the scraper asks, plain text otherwise, with the same series', async () => {
    const target = await new GrpcTarget({ health: { '': 'SERVING' } }).start();
    cleanup.push(() => target.stop());
    const app = new RunningApp(testConfig(`  - name: api\n    address: "${target.address}"\n`));
    cleanup.push(() => app.close());
    await app.start();
    await app.waitForMetric('grpc_probe_health_watch_up', { target: 'api', health_service: '' }, 1, 10_000);
    const url = `${app.url}/metrics`;

    const zipped = await fetchRaw(url, { 'accept-encoding': 'gzip' });
    expect(zipped.status).toBe(200);
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(zipped.headers.vary).toBe('Accept-Encoding');
    expect(zipped.headers['content-type']).toContain('text/plain; version=0.0.4');
    const unzipped = gunzipSync(zipped.raw).toString('utf8');

    const plain = await fetchRaw(url, {});
    expect(plain.headers['content-encoding']).toBeUndefined();
    const text = plain.raw.toString('utf8');
    expect(plain.raw.length).toBeGreaterThan(zipped.raw.length);
    expect(identities(unzipped)).toEqual(identities(text));
    expect(identities(text)).toContain('grpc_probe_health_watch_up{"target":"api","health_service":""}');
    // The decompressed exposition is valid for Prometheus' own linter.
    const lint = runTool('promtool', ['check', 'metrics'], unzipped);
    expect(lint.output).not.toMatch(/error|unexpected/i);

    // Prometheus' header refused with q=0, and a wildcard: RFC 9110 semantics.
    expect(
      (await fetchRaw(url, { 'accept-encoding': 'gzip;q=0, identity' })).headers['content-encoding'],
    ).toBeUndefined();
    expect((await fetchRaw(url, { 'accept-encoding': '*' })).headers['content-encoding']).toBe('gzip');
  });

  it.each([
    ['gzip', true],
    ['GZIP', true],
    ['deflate, gzip;q=0.5', true],
    ['x-gzip', true],
    ['gzip;q=0', false],
    ['gzip; q=0.000', false],
    ['identity', false],
    ['', false],
    ['*', true],
    ['*;q=0', false],
    ['br, *', true],
    ['*, gzip;q=0', false],
  ])('reads Accept-Encoding %j as gzip=%s', (header, expected) => {
    expect(acceptsGzip(header)).toBe(expected);
  });
});

describe('exposition in pieces', () => {
  it('gives the event loop a turn between pieces', async () => {
    let ticks = 0;
    const seenAtPiece: number[] = [];
    function* source() {
      for (let i = 0; i < 4; i++) {
        seenAtPiece.push(ticks);
        setImmediate(() => ticks++);
        yield `line_${i} 1\n`;
      }
    }
    const { body } = expositionBody(source, undefined);
    let text = '';
    for await (const chunk of body) text += String(chunk);
    expect(text).toBe('line_0 1\nline_1 1\nline_2 1\nline_3 1\n');
    // Each piece is made only after the callbacks queued while making the one before it have run.
    expect(seenAtPiece).toEqual([0, 1, 2, 3]);
  });

  it('renders every series exactly once whatever the piece size', () => {
    const table = new MetricTable();
    const counter = table.counter('c_total', 'a counter', ['target', 'reason']);
    const histogram = table.histogram('h_seconds', 'a histogram', ['target'], [0.1, 1]);
    for (let t = 0; t < 300; t++) {
      for (const reason of ['a', 'b', 'c']) counter.inc({ target: `t${t}`, reason }, t);
      histogram.observe(histogram.cell({ target: `t${t}` }), t / 100);
    }
    // 900 counters + 300 histograms of 3 buckets, a sum and a count.
    const expected = 900 + 300 * 5;
    for (const perChunk of [1, 7, 2000, 1_000_000]) {
      const pieces = [...table.chunks(perChunk)];
      const text = pieces.join('');
      const samples = parseSamples(text);
      expect(samples).toHaveLength(expected);
      expect(new Set(identities(text)).size).toBe(expected);
      expect(text.match(/^# TYPE /gm)).toHaveLength(2);
      if (perChunk === 7) expect(pieces.length).toBeGreaterThan(100);
    }
    expect(parseSamples(table.render())).toHaveLength(expected);
  });
});
