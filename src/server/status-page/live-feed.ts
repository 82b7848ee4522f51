// The status page's live feed: Server-Sent Events carrying the rendered #live fragment. One render per
// flush is shared by every client. A significant change (a verdict, state or reason) goes out within
// FAST_MS; repeats of the same result (counts, times) are batched into one update every SLOW_MS.
// Bounded: at most MAX_CLIENTS streams, a client that does not read is dropped, and flushes are spaced
// so rendering takes at most a tenth of the event loop (1,000 targets render in tens of ms).

import type { ServerResponse } from 'node:http';

const FAST_MS = 100;
const SLOW_MS = 5000;
const PING_MS = 10_000;
const MAX_CLIENTS = 32;
/** Flushes are at least this many render times apart. */
const RENDER_SHARE = 10;
/** A client whose unread output passes this is dropped rather than buffered. */
const MAX_BUFFERED_BYTES = 1 << 20;

/** One SSE event; a multi-line payload becomes several data: lines (the browser joins them). */
function event(name: string, data: string): string {
  return `event: ${name}\n${data
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

export class LiveFeed {
  readonly #render: () => string;
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | undefined;
  /** When the pending flush is due (performance.now()); a significant change may bring it forward. */
  #due = 0;
  /** When the last flush ended, and the least gap before the next (performance.now() ms). */
  #lastFlush = Number.NEGATIVE_INFINITY;
  #minGap = FAST_MS;
  #ping: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  /** Set by close(): the server is going away and takes no new stream. */
  #closed = false;
  readonly #subscribe: (listener: (significant: boolean) => void) => () => void;

  constructor(render: () => string, subscribe: (listener: (significant: boolean) => void) => () => void) {
    this.#render = render;
    this.#subscribe = subscribe;
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Takes over a response as an event stream; false when full or closed (the caller answers 503). */
  attach(response: ServerResponse): boolean {
    if (this.#closed || this.#clients.size >= MAX_CLIENTS) return false;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    this.#clients.add(response);
    response.on('close', () => this.#detach(response));
    // The page may be older than the feed: send the current state at once.
    const page = this.#page();
    if (page) this.#send(response, page);
    this.#unsubscribe ??= this.#subscribe((significant) => this.#changed(significant));
    if (!this.#ping) {
      this.#ping = setInterval(() => this.#broadcast(event('ping', '')), PING_MS);
      this.#ping.unref();
    }
    return true;
  }

  /** Ends every stream (the server is closing) and stops listening to the store. */
  close(): void {
    this.#closed = true;
    for (const client of this.#clients) client.end();
    this.#clients.clear();
    this.#idle();
  }

  #detach(response: ServerResponse): void {
    this.#clients.delete(response);
    if (this.#clients.size === 0) this.#idle();
  }

  #idle(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#ping);
    this.#timer = undefined;
    this.#ping = undefined;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  #changed(significant: boolean): void {
    const due = Math.max(
      performance.now() + (significant ? FAST_MS : SLOW_MS),
      this.#lastFlush + this.#minGap,
    );
    if (this.#timer && this.#due <= due) return;
    clearTimeout(this.#timer);
    this.#due = due;
    this.#timer = setTimeout(() => this.#flush(), due - performance.now());
    this.#timer.unref();
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#clients.size === 0) return;
    const started = performance.now();
    const page = this.#page();
    if (page) this.#broadcast(page);
    this.#lastFlush = performance.now();
    this.#minGap = Math.max(FAST_MS, RENDER_SHARE * (this.#lastFlush - started));
  }

  /** A render that throws (a bug) skips one update; it must not take the daemon down from a timer. */
  #page(): string | undefined {
    try {
      return event('page', this.#render());
    } catch {
      return undefined;
    }
  }

  #broadcast(text: string): void {
    for (const client of this.#clients) this.#send(client, text);
  }

  #send(client: ServerResponse, text: string): void {
    if (client.writableLength > MAX_BUFFERED_BYTES) {
      client.destroy();
      return;
    }
    client.write(text);
  }
}
