// What a target address names, for fan-out (SPEC "Config"): a DNS name to resolve (maybe on a given DNS
// server), a fixed ipv4:/ipv6: address list, or a unix socket. Pure parsing; config validation and the
// backend resolver share it, so whatever `validate` accepts the resolver can resolve.

import { isIPv4, isIPv6 } from 'node:net';

/** One resolved (or listed) address of a target: a backend. */
export interface BackendAddress {
  /** The IP literal; IPv6 in canonical compressed form, without brackets. */
  ip: string;
  port: number;
  family: 4 | 6;
  /** `ip:port`, `[ip]:port` for IPv6: the `backend` label value and the reconcile key. */
  key: string;
}

export type AddressSource =
  /** A name to resolve. `server` is the DNS server of `dns://SERVER/name:port`; undefined: the system's. */
  | { kind: 'dns'; server: string | undefined; host: string; port: number }
  /** A fixed list (`ipv4:a:p,b:p`, `ipv6:[a]:p,...`, or one IP literal host:port). */
  | { kind: 'list'; backends: BackendAddress[] }
  | { kind: 'unix'; path: string };

export function backendAddress(ip: string, port: number): BackendAddress {
  if (isIPv4(ip)) return { ip, port, family: 4, key: `${ip}:${port}` };
  const canonical = canonicalIPv6(ip);
  return { ip: canonical, port, family: 6, key: `[${canonical}]:${port}` };
}

/** The grpc-js channel target that dials exactly this one address. */
export function backendChannelTarget(backend: BackendAddress): string {
  return backend.family === 4 ? `ipv4:${backend.key}` : `ipv6:${backend.key}`;
}

/** IPv6 in the one spelling the WHATWG URL parser produces (RFC 5952 compressed, lowercase). */
function canonicalIPv6(ip: string): string {
  try {
    return new URL(`http://[${ip}]/`).hostname.slice(1, -1);
  } catch {
    return ip.toLowerCase();
  }
}

/** Splits `host:port` / `[v6]:port`; undefined when there is no numeric port in range. */
export function splitHostPort(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s/]*)):(\d{1,5})$/.exec(text);
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port > 65535) return undefined;
  return { host: match[1] ?? match[2] ?? '', port };
}

/**
 * Parses an `ipv4:`/`ipv6:` list. Every entry is an IP literal of that family with a port (IPv6 in
 * brackets); duplicates are errors. Returns the backends in the order given, or the problem.
 */
export function parseIpList(text: string): BackendAddress[] | string {
  const scheme = text.startsWith('ipv4:') ? 4 : 6;
  const entries = text.slice(5).split(',');
  const backends: BackendAddress[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const hostPort = splitHostPort(entry.trim());
    const ok = hostPort && (scheme === 4 ? isIPv4(hostPort.host) : isIPv6(hostPort.host));
    if (!hostPort || !ok) {
      return scheme === 4
        ? `"${entry}" in "${text}" is not an IPv4 address with a port (ipv4:10.0.0.1:50051,10.0.0.2:50051)`
        : `"${entry}" in "${text}" is not an IPv6 address in brackets with a port (ipv6:[fd00::1]:50051)`;
    }
    if (hostPort.port === 0) return `port 0 in "${entry}" cannot be dialled`;
    const backend = backendAddress(hostPort.host, hostPort.port);
    if (seen.has(backend.key)) return `address ${backend.key} is listed twice in "${text}"`;
    seen.add(backend.key);
    backends.push(backend);
  }
  return backends;
}

/** The problem with an ipv4:/ipv6: list, if any. */
export function checkIpList(text: string): string | undefined {
  const list = parseIpList(text);
  return typeof list === 'string' ? list : undefined;
}

/** The problem with the DNS server of a `dns://SERVER/name:port` address, if it names one. */
export function checkDnsServerOf(address: string): string | undefined {
  const server = /^dns:\/\/([^/]+)\//.exec(address)?.[1];
  return server === undefined ? undefined : checkDnsServer(server);
}

/** Checks the DNS server of `dns://SERVER/`: node:dns takes an IP literal with an optional port. */
export function checkDnsServer(server: string): string | undefined {
  const hostPort = splitHostPort(server);
  const host = hostPort ? hostPort.host : server.replace(/^\[(.*)\]$/, '$1');
  if (isIPv4(host) || isIPv6(host)) return undefined;
  return `DNS server "${server}" must be an IP address with an optional port (dns://10.0.0.10:53/name:port)`;
}

/** What an already validated address names. */
export function parseAddressSource(address: string): AddressSource | string {
  if (address.startsWith('unix:')) return { kind: 'unix', path: address.slice('unix:'.length) };
  if (/^ipv[46]:/.test(address)) {
    const list = parseIpList(address);
    return typeof list === 'string' ? list : { kind: 'list', backends: list };
  }
  const dns = /^dns:(?:\/\/([^/]*)\/)?(.*)$/.exec(address);
  const server = dns?.[1] === '' ? undefined : dns?.[1];
  const hostPort = splitHostPort(dns ? (dns[2] ?? '') : address);
  if (!hostPort) return `invalid address "${address}"`;
  if (server !== undefined) {
    const problem = checkDnsServer(server);
    if (problem) return problem;
  }
  if (isIPv4(hostPort.host) || isIPv6(hostPort.host)) {
    return { kind: 'list', backends: [backendAddress(hostPort.host, hostPort.port)] };
  }
  return { kind: 'dns', server, host: hostPort.host, port: hostPort.port };
}

/**
 * The host a fan-out backend's channel presents: the `:authority` (and, by grpc-js, the TLS name when
 * no server_name is set) the target itself would have used. grpc-js takes a DNS target's authority from
 * its path (`host:port`), and an ipv4:/ipv6: list's from its first entry.
 */
export function targetAuthority(address: string): string {
  if (/^ipv[46]:/.test(address)) return address.slice(5).split(',')[0] ?? '';
  const dns = /^dns:(?:\/\/[^/]*\/)?(.*)$/.exec(address);
  return dns ? (dns[1] ?? '') : address;
}

/** Orders backends IPv4 first, then numerically by address, then by port: a stable, readable order. */
export function compareBackends(a: BackendAddress, b: BackendAddress): number {
  if (a.family !== b.family) return a.family - b.family;
  const x = addressBytes(a);
  const y = addressBytes(b);
  for (let i = 0; i < x.length; i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.port - b.port;
}

function addressBytes(backend: BackendAddress): number[] {
  if (backend.family === 4) return backend.ip.split('.').map(Number);
  // Expand "::" into the missing zero groups; a trailing dotted IPv4 counts as two groups.
  let ip = backend.ip;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  if (v4?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = v4[1].split('.').map(Number);
    ip = `${ip.slice(0, -v4[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = '', tail] = ip.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = new Array(Math.max(0, 8 - left.length - right.length)).fill('0');
  return [...left, ...(tail === undefined ? [] : zeros), ...right].map((g) => Number.parseInt(g, 16));
}
