// Step "dns": every A/AAAA record of the host and the resolver that gave them. A Kubernetes Service
// name that resolves to one address is a ClusterIP: one virtual IP, so one HTTP/2 connection pins all
// calls to one pod (the seed's headless-Service hint).

import { getServers } from 'node:dns';
import { lookup, Resolver } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { DiagnoseOptions } from './args.js';
import { failed, step, stopwatch } from './step.js';
import type { StepResult } from './types.js';

export interface ResolvedAddress {
  /** An IP address, or the path of a Unix socket. */
  ip: string;
  family: 4 | 6 | 'unix';
}

export interface DnsResult {
  step: StepResult;
  addresses: ResolvedAddress[];
}

/** Kubernetes Service DNS: name.namespace.svc[.cluster.local] (any cluster domain after svc). */
const SERVICE_NAME = /^[a-z0-9-]+\.[a-z0-9-]+\.svc(\.[a-z0-9.-]+)?\.?$/i;

/** getaddrinfo has no timeout of its own: bound it by the connect timeout. */
function withTimeout<T>(promise: Promise<T>, ms: number, host: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer for ${host} within ${ms} ms`), { code: 'ETIMEOUT' })),
      ms,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function resolveWith(
  options: DiagnoseOptions,
): Promise<{ addresses: ResolvedAddress[]; resolver: string }> {
  const { host, dnsServer, connectTimeoutMs } = options;
  if (!dnsServer) {
    // What grpc-js's default resolver does too: getaddrinfo, so /etc/hosts and search domains apply.
    const found = await withTimeout(lookup(host, { all: true, verbatim: true }), connectTimeoutMs, host);
    return {
      addresses: found.map((a) => ({ ip: a.address, family: a.family === 6 ? 6 : 4 })),
      resolver: `system (${getServers().join(', ') || 'no nameserver'})`,
    };
  }
  const resolver = new Resolver({ timeout: connectTimeoutMs, tries: 1 });
  const server = isIP(dnsServer.host) === 6 ? `[${dnsServer.host}]` : dnsServer.host;
  resolver.setServers([`${server}:${dnsServer.port}`]);
  const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
  const addresses: ResolvedAddress[] = [
    ...(v4.status === 'fulfilled' ? v4.value.map((ip) => ({ ip, family: 4 as const })) : []),
    ...(v6.status === 'fulfilled' ? v6.value.map((ip) => ({ ip, family: 6 as const })) : []),
  ];
  if (addresses.length === 0) {
    const reason = v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : undefined;
    throw reason ?? new Error(`no A or AAAA record for ${host}`);
  }
  return { addresses, resolver: `${server}:${dnsServer.port}` };
}

export async function dnsStep(options: DiagnoseOptions): Promise<DnsResult> {
  const elapsed = stopwatch();
  if (options.unixPath !== undefined) {
    return {
      step: step('dns', 'ok', elapsed(), `unix socket ${options.unixPath}: no lookup`),
      addresses: [{ ip: options.unixPath, family: 'unix' }],
    };
  }
  const family = isIP(options.host);
  if (family !== 0) {
    return {
      step: step('dns', 'ok', elapsed(), `${options.host} is an IP address: no lookup`),
      addresses: [{ ip: options.host, family: family === 6 ? 6 : 4 }],
    };
  }
  try {
    const resolved = await resolveWith(options);
    const { resolver } = resolved;
    // getaddrinfo repeats an address once per socket type on some systems: one TCP step each.
    const addresses = resolved.addresses.filter((a, i, all) => all.findIndex((b) => b.ip === a.ip) === i);
    const list = addresses.map((a) => `${a.ip} (${a.family === 4 ? 'A' : 'AAAA'})`).join(', ');
    const detail = `${options.host} → ${list} via ${resolver}`;
    if (addresses.length === 1 && SERVICE_NAME.test(options.host)) {
      return {
        step: {
          ...step('dns', 'warn', elapsed(), `${detail}: one address for a Kubernetes Service name`),
          cause:
            'a ClusterIP Service: one virtual IP, so gRPC keeps one HTTP/2 connection to one pod and all calls go there',
          fix: 'a headless Service (`clusterIP: None`) so every pod is an A record, with `round_robin` in the client; or an L7 (HTTP/2-aware) proxy',
        },
        addresses,
      };
    }
    return { step: step('dns', 'ok', elapsed(), detail), addresses };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const text = `${options.host}: ${e.code ?? ''} ${e.message}`.trim();
    // The classifier knows ENOTFOUND/EAI_AGAIN; a resolver answer without records (ENODATA, NXDOMAIN
    // from c-ares) is the same fault.
    return { step: failed('dns', elapsed(), text, 'connection', 'dns_error'), addresses: [] };
  }
}
