// Resolves a fan-out target's name to its backends (SPEC "Config", `fan_out`): A and AAAA records from
// the DNS server a `dns://SERVER/` address names (and only that one), or the system resolver
// (getaddrinfo: /etc/hosts, search domains, what the pod's resolv.conf says). Every query is bounded.

import { promises as dns } from 'node:dns';
import { type BackendAddress, backendAddress, compareBackends } from '../config/address.js';

/** Per-query timeout handed to c-ares, and how many times it asks; the whole lookup has its own cap. */
const QUERY_TIMEOUT_MS = 1000;
const QUERY_TRIES = 2;

/** The answer for one address family. */
export type FamilyAnswer =
  /** The server answered: these addresses (none: NODATA / NXDOMAIN, a valid "nothing here"). */
  | { ok: true; ips: string[] }
  /** No trustworthy answer (timeout, refused, SERVFAIL, ...). */
  | { ok: false; error: string };

export interface Resolution {
  v4: FamilyAnswer;
  v6: FamilyAnswer;
}

/** Errors that are answers: the name (or this record type of it) does not exist. */
const NO_DATA = new Set(['ENODATA', 'ENOTFOUND']);

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ?? (e instanceof Error ? e.message : String(err));
}

/** Resolves `promise`, or rejects with `code` after `ms` (calling `onTimeout` to cancel the work). */
function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(Object.assign(new Error(`no answer within ${ms} ms`), { code: 'ETIMEOUT' }));
    }, ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Asks one DNS server for the A and AAAA records of `host`; both queries run at once. */
export class DnsServerResolver {
  readonly #resolver: dns.Resolver;

  /** `server` is an IP literal with an optional port, as `dns://SERVER/` gives it (validated). */
  constructor(server: string) {
    this.#resolver = new dns.Resolver({ timeout: QUERY_TIMEOUT_MS, tries: QUERY_TRIES });
    this.#resolver.setServers([server]);
  }

  cancel(): void {
    this.#resolver.cancel();
  }

  async resolve(host: string, timeoutMs: number): Promise<Resolution> {
    const family = async (query: Promise<string[]>): Promise<FamilyAnswer> => {
      try {
        return { ok: true, ips: await query };
      } catch (err) {
        const code = describe(err);
        return NO_DATA.has(code) ? { ok: true, ips: [] } : { ok: false, error: code };
      }
    };
    const both = Promise.all([family(this.#resolver.resolve4(host)), family(this.#resolver.resolve6(host))]);
    try {
      const [v4, v6] = await withTimeout(both, timeoutMs, () => this.#resolver.cancel());
      return { v4, v6 };
    } catch (err) {
      const failed: FamilyAnswer = { ok: false, error: describe(err) };
      return { v4: failed, v6: failed };
    }
  }
}

/** The system resolver (getaddrinfo through dns.lookup), which also reads /etc/hosts. */
export class SystemResolver {
  async resolve(host: string, timeoutMs: number): Promise<Resolution> {
    // getaddrinfo cannot be cancelled: the cap bounds our wait, and the caller runs one at a time.
    try {
      const found = await withTimeout(dns.lookup(host, { all: true, verbatim: true }), timeoutMs, () => {});
      const ips = (family: number) => found.filter((a) => a.family === family).map((a) => a.address);
      return { v4: { ok: true, ips: ips(4) }, v6: { ok: true, ips: ips(6) } };
    } catch (err) {
      const code = describe(err);
      const answer: FamilyAnswer = NO_DATA.has(code) ? { ok: true, ips: [] } : { ok: false, error: code };
      return { v4: answer, v6: answer };
    }
  }
}

export interface HostResolver {
  resolve(host: string, timeoutMs: number): Promise<Resolution>;
  /** Abandons the queries in flight (their answers become ECANCELLED failures). */
  cancel?(): void;
}

/** One backend per distinct address, sorted (IPv4 first, numerically): the same set, the same order. */
export function toBackends(ips: readonly string[], port: number): BackendAddress[] {
  const byKey = new Map<string, BackendAddress>();
  for (const ip of ips) {
    const backend = backendAddress(ip, port);
    byKey.set(backend.key, backend);
  }
  return [...byKey.values()].sort(compareBackends);
}
