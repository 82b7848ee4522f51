// `dns://SERVER/name:port` names the DNS server to ask (SPEC "Config"). grpc-js 1.14 honours it only
// with its c-ares resolver, chosen by GRPC_NODE_USE_ALTERNATIVE_RESOLVER=true, read once when grpc-js
// loads (environment.ts); otherwise it asks the system resolver and sends the lookup elsewhere. So the
// CLI calls this with the addresses it will probe before it loads grpc-js, as it does for the tracers.
// c-ares asks DNS only (no /etc/hosts): with a DNS server named anywhere, every dns: name of the process
// is resolved by DNS; give `localhost` targets as 127.0.0.1 then.

/** A dns: address with an authority (the DNS server). */
export const DNS_SERVER_RE = /^dns:\/\/[^/]+\//;

/** Turns grpc-js's c-ares resolver on when an address names its DNS server; returns whether it did. */
export function honourDnsServers(
  addresses: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  // Respect a user who chose either way on purpose.
  if (env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER !== undefined)
    return env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER === 'true';
  if (!addresses.some((address) => DNS_SERVER_RE.test(address))) return false;
  env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER = 'true';
  return true;
}
