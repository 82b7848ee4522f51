// Who produced a call's final status: the server (trailers carrying grpc-status arrived) or grpc-js
// itself (it synthesizes statuses for everything the client saw: connect errors, resets, deadlines,
// undecodable answers). SPEC's provenance rule needs this. grpc-js 1.14 says it in exactly one place:
// subchannel-call.ts handleTrailers traces "received status code N from server" only when the trailers
// (or a trailers-only response) carried grpc-status. This ledger reads that `subchannel_call` trace
// and remembers each server-sent final status until the call that ended with it asks.

/** `... | subchannel_call | [7] received status code 14 from server` */
const LINE_RE = /\| subchannel_call \| \[(\d+)\] (.*)$/s;
const RECEIVED_RE = /^received status code (-?\d+|NaN) from server$/;
const DETAILS_RE = /^received status details string "(.*)" from server$/s;
const ENDED_RE = /^ended with status: code=(-?\d+|NaN|undefined) details="(.*)"$/s;

/** A server-sent status not claimed within this time belongs to a call that ended otherwise. */
const KEEP_MS = 30_000;
/** Hard caps, whatever the traffic. */
const MAX_PENDING = 10_000;
const MAX_LEDGER = 10_000;

const key = (code: number, details: string) => `${code}\u0000${details}`;

export class StatusProvenance {
  /** Subchannel calls whose trailers carried grpc-status, until they end. */
  readonly #pending = new Map<number, { code: string; details: string }>();
  /** Server-sent final statuses not yet claimed: key → times seen (performance.now()). */
  readonly #ledger = new Map<string, number[]>();
  #entries = 0;

  /** Feeds one grpc-js trace line; returns false when it is not a subchannel_call line. */
  onTraceLine(line: string): boolean {
    if (!line.includes(' | subchannel_call | ')) return false;
    const match = LINE_RE.exec(line);
    if (!match) return true;
    const id = Number(match[1]);
    const text = match[2] ?? '';
    const received = RECEIVED_RE.exec(text);
    if (received) {
      if (this.#pending.size >= MAX_PENDING) this.#pending.clear();
      this.#pending.set(id, { code: received[1] ?? '', details: '' });
      return true;
    }
    const details = DETAILS_RE.exec(text);
    if (details) {
      const pending = this.#pending.get(id);
      if (pending) pending.details = details[1] ?? '';
      return true;
    }
    const ended = ENDED_RE.exec(text);
    if (ended) {
      const pending = this.#pending.get(id);
      this.#pending.delete(id);
      // The final status is the server's only if it is the one the trailers carried (grpc-js replaces
      // an OK from the server with its own status when, say, the message would not decode).
      if (pending && pending.code === ended[1] && pending.details === (ended[2] ?? '')) {
        this.#remember(key(Number(pending.code), pending.details));
      }
    }
    return true;
  }

  /**
   * Whether a call's final status (code, details) was sent by the server; claims the entry, so each
   * server-sent status answers one call. Call it synchronously where the call's status arrives.
   */
  claim(code: number, details: string): boolean {
    const k = key(code, details);
    const times = this.#ledger.get(k);
    if (!times) return false;
    const now = performance.now();
    while (times.length > 0 && now - (times[0] ?? 0) > KEEP_MS) {
      times.shift();
      this.#entries -= 1;
    }
    const found = times.shift() !== undefined;
    if (found) this.#entries -= 1;
    if (times.length === 0) this.#ledger.delete(k);
    return found;
  }

  #remember(k: string): void {
    if (this.#entries >= MAX_LEDGER) {
      this.#ledger.clear();
      this.#entries = 0;
    }
    const times = this.#ledger.get(k) ?? [];
    times.push(performance.now());
    this.#ledger.set(k, times);
    this.#entries += 1;
  }
}

/** The process-wide ledger (grpc-js has one logger; trace-tap.ts feeds it). */
export const statusProvenance = new StatusProvenance();
