// The backends of one fan-out target, kept fresh: the name is resolved every `fan_out.refresh` (with
// jitter) and again, sooner, after a failure (backoff with jitter) or when a backend asks (its
// connection failed: the pod may be gone). A failed resolution keeps the last good set and says so,
// once per transition. More than `max_backends` addresses: the first are probed, the rest counted.

import type { Logger } from 'pino';
import type { AddressSource, BackendAddress } from '../config/address.js';
import type { FanOutConfig } from '../config/fan-out.js';
import { Backoff } from '../util/backoff.js';
import { DnsServerResolver, type HostResolver, SystemResolver, toBackends } from './resolve.js';

/** What the status page and /api/v1/targets show about a target's resolution. */
export interface DiscoveryStatus {
  /** pending: no answer yet; ok: the last resolution answered; stale: it failed, the last good set is kept. */
  state: 'pending' | 'ok' | 'stale';
  /** Why the last resolution failed (error codes per record type), while stale. */
  error?: string;
  lastSuccessTime?: string;
  lastAttemptTime?: string;
  /** Addresses in the set in use, probed or not. */
  resolved: number;
  /** Addresses beyond max_backends, not probed. */
  notProbed: number;
}

export interface DiscoveryOptions {
  fanOut: FanOutConfig;
  log: Logger;
  /** Called with the backends to probe (at most max_backends, sorted) whenever that set changes. */
  onBackends: (backends: readonly BackendAddress[]) => void;
  /** Called after every resolution (and once for a fixed list) with the new status. */
  onStatus?: (status: DiscoveryStatus) => void;
  /** Cap on one resolution, both record types together. */
  timeoutMs?: number;
  /** The resolver to ask (tests); by default the source's DNS server or the system resolver. */
  resolver?: HostResolver;
  random?: () => number;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** First retry after a failed resolution; later ones back off up to `refresh`. */
const RETRY_INITIAL_MS = 1000;
/** Re-resolutions a backend asks for come no sooner than this after the last one (grpc-js: 30 s). */
const MIN_EARLY_GAP_MS = 5000;

export class BackendDiscovery {
  readonly #source: AddressSource;
  readonly #options: DiscoveryOptions;
  readonly #log: Logger;
  readonly #resolver: HostResolver | undefined;
  readonly #backoff: Backoff;
  readonly #random: () => number;
  #status: DiscoveryStatus = { state: 'pending', resolved: 0, notProbed: 0 };
  /** Last good answer per address family: a family that fails keeps its own last answer. */
  #lastV4: string[] = [];
  #lastV6: string[] = [];
  /** Keys of the backends last handed to onBackends, joined: to report changes only. */
  #published: string | undefined;
  #abort: AbortController | undefined;
  #loop: Promise<void> | undefined;
  /** A backend asked for a re-resolution; honoured once MIN_EARLY_GAP_MS passed since the last one. */
  #early = false;
  #lastResolvedAt = Number.NEGATIVE_INFINITY;
  /** Re-arms the current wait (a refresh was requested during it). */
  #rearm: (() => void) | undefined;

  constructor(source: AddressSource, options: DiscoveryOptions) {
    if (source.kind === 'unix') throw new Error('fan-out needs a DNS name or an address list');
    this.#source = source;
    this.#options = options;
    this.#log = options.log;
    this.#random = options.random ?? Math.random;
    this.#resolver =
      source.kind !== 'dns'
        ? undefined
        : (options.resolver ??
          (source.server === undefined ? new SystemResolver() : new DnsServerResolver(source.server)));
    this.#backoff = new Backoff({
      initialMs: Math.min(RETRY_INITIAL_MS, options.fanOut.refreshMs),
      maxMs: options.fanOut.refreshMs,
      random: this.#random,
    });
  }

  get status(): DiscoveryStatus {
    return { ...this.#status };
  }

  /** Publishes a fixed list at once, or starts the resolve loop. Idempotent. */
  start(): void {
    if (this.#abort) return;
    this.#abort = new AbortController();
    if (this.#source.kind === 'list') {
      this.#publish(this.#source.backends);
      this.#status = { ...this.#status, state: 'ok', lastSuccessTime: new Date().toISOString() };
      this.#options.onStatus?.(this.status);
      return;
    }
    this.#loop = this.#run(this.#abort.signal);
  }

  /** Asks for a re-resolution soon (a backend's connection failed); rate-limited. */
  requestRefresh(): void {
    if (this.#resolver === undefined || this.#early) return;
    this.#early = true;
    this.#rearm?.();
  }

  /** Stops the loop; a resolution in flight is abandoned (its answer is dropped). */
  async close(): Promise<void> {
    if (!this.#abort) this.#abort = new AbortController();
    this.#abort.abort();
    await this.#loop;
  }

  async #run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#early = false;
      let ok = false;
      try {
        ok = await this.#resolveOnce(signal);
      } catch (err) {
        // A programmer error (resolveOnce catches what DNS does): log it, retry with backoff.
        this.#log.error({ err }, 'backend resolution threw');
      }
      if (signal.aborted) return;
      this.#lastResolvedAt = performance.now();
      if (ok) this.#backoff.reset();
      const { refreshMs } = this.#options.fanOut;
      // ±10% so that sidecars started together do not query their DNS server in lockstep.
      const delay = ok ? Math.round(refreshMs * (0.9 + 0.2 * this.#random())) : this.#backoff.next();
      await this.#wait(delay, signal);
    }
  }

  /** Sleeps `delayMs`, or less when a refresh is requested (but not before the minimum gap). */
  #wait(delayMs: number, signal: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      const startedAt = performance.now();
      let timer: NodeJS.Timeout | undefined;
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.#rearm = undefined;
        resolve();
      };
      const arm = () => {
        clearTimeout(timer);
        const now = performance.now();
        let due = startedAt + delayMs;
        if (this.#early) due = Math.min(due, this.#lastResolvedAt + Math.min(MIN_EARLY_GAP_MS, delayMs));
        timer = setTimeout(done, Math.max(0, due - now));
        timer.unref();
      };
      if (signal.aborted) return resolve();
      signal.addEventListener('abort', done, { once: true });
      this.#rearm = arm;
      arm();
    });
  }

  /** One resolution; true when every record type answered and the name has addresses. */
  async #resolveOnce(signal: AbortSignal): Promise<boolean> {
    const source = this.#source;
    const resolver = this.#resolver;
    if (source.kind !== 'dns' || !resolver) return true;
    // close() must not wait for a slow DNS server: an abort ends the wait and cancels the queries.
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<undefined>((resolve) => {
      onAbort = () => {
        resolver.cancel?.();
        resolve(undefined);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    const answer = await Promise.race([
      resolver.resolve(source.host, this.#options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      aborted,
    ]);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    if (!answer || signal.aborted) return false;
    const problems: string[] = [];
    if (!answer.v4.ok) problems.push(`A ${answer.v4.error}`);
    if (!answer.v6.ok) problems.push(`AAAA ${answer.v6.error}`);
    const v4 = answer.v4.ok ? answer.v4.ips : this.#lastV4;
    const v6 = answer.v6.ok ? answer.v6.ips : this.#lastV6;
    const backends = toBackends([...v4, ...v6], source.port);
    const now = new Date().toISOString();
    if (backends.length === 0) {
      if (problems.length === 0) problems.push('the name has no A or AAAA records');
    } else {
      this.#lastV4 = v4;
      this.#lastV6 = v6;
      this.#publish(backends);
    }
    const ok = problems.length === 0;
    const before = this.#status.state;
    this.#status = {
      ...this.#status,
      state: ok ? 'ok' : 'stale',
      lastAttemptTime: now,
      ...(ok ? { lastSuccessTime: now } : {}),
    };
    if (ok) delete this.#status.error;
    else this.#status.error = problems.join('; ');
    const where = { host: source.host, dns_server: source.server ?? 'system' };
    if (!ok && before !== 'stale') {
      this.#log.warn(
        { ...where, error: this.#status.error, kept: this.#status.resolved },
        'backend resolution failed, keeping the last good backends',
      );
    } else if (ok && before === 'stale') {
      this.#log.info({ ...where, backends: this.#status.resolved }, 'backend resolution recovered');
    }
    this.#options.onStatus?.(this.status);
    return ok;
  }

  /** Hands the first max_backends to onBackends when the set changed; counts and warns about the rest. */
  #publish(all: readonly BackendAddress[]): void {
    const { maxBackends } = this.#options.fanOut;
    const probed = all.slice(0, maxBackends);
    const notProbed = all.length - probed.length;
    if (notProbed !== this.#status.notProbed && notProbed > 0) {
      this.#log.warn(
        { resolved: all.length, max_backends: maxBackends, not_probed: notProbed },
        'more addresses than fan_out.max_backends: probing the first',
      );
    }
    this.#status = { ...this.#status, resolved: all.length, notProbed };
    const keys = probed.map((b) => b.key).join(',');
    if (keys === this.#published) return;
    const before = new Set(this.#published?.split(',') ?? []);
    const after = new Set(probed.map((b) => b.key));
    this.#log.info(
      {
        added: [...after].filter((k) => !before.has(k)),
        removed: [...before].filter((k) => k !== '' && !after.has(k)),
      },
      'backends changed',
    );
    this.#published = keys;
    this.#options.onBackends(probed);
  }
}
