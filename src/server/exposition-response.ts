// GET /metrics as a stream: the exposition's pieces are written as the socket (or gzip) takes them,
// with a turn of the event loop between pieces, so a 100,000-series scrape never blocks Watch messages
// and probes for its whole render; gzip (SPEC "Endpoints": when the scraper asks, and Prometheus always
// does) runs on libuv's thread pool, off the event loop.

import { Readable } from 'node:stream';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { constants, createGzip } from 'node:zlib';

/** The pieces of one exposition, in order (the Prometheus text format 0.0.4). */
export type ExpositionSource = () => AsyncIterable<string> | Iterable<string>;

/**
 * Whether an Accept-Encoding header asks for gzip (RFC 9110 §12.5.3: a coding listed with q=0 is
 * refused; `*` stands for any coding not listed).
 */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let star = false;
  for (const part of text.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const accepted = q === undefined || Number(q.slice(2)) > 0;
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') return accepted;
    if (coding.trim() === '*') star = accepted;
  }
  return star;
}

/** Yields the source's pieces, giving the event loop a turn before making each one after the first. */
async function* paced(source: AsyncIterable<string> | Iterable<string>): AsyncGenerator<string> {
  const pieces =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<string>)[Symbol.asyncIterator]()
      : (source as Iterable<string>)[Symbol.iterator]();
  try {
    for (let first = true; ; first = false) {
      if (!first) await nextTurn();
      const next = await pieces.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    // A scraper that hung up: let the source finish (a generator's finally blocks run).
    await pieces.return?.();
  }
}

/** The response body, and the headers that go with it. */
export function expositionBody(
  source: ExpositionSource,
  acceptEncoding: string | string[] | undefined,
): { body: Readable; headers: Record<string, string> } {
  const text = Readable.from(paced(source()), { objectMode: false });
  if (!acceptsGzip(acceptEncoding)) return { body: text, headers: { vary: 'Accept-Encoding' } };
  // Level 1: the text is repetitive, so the fastest level already compresses it ~15× (bench/RESULTS.md)
  // at a fraction of the default level's CPU.
  const gzip = createGzip({ level: constants.Z_BEST_SPEED });
  text.on('error', (err) => gzip.destroy(err));
  text.pipe(gzip);
  return { body: gzip, headers: { 'content-encoding': 'gzip', vary: 'Accept-Encoding' } };
}
