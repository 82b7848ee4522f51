// Names and addresses: `authority` is the TLS name when server_name is empty; `dns://SERVER/name`
// asks that DNS server and no other (the CLI turns grpc-js's c-ares resolver on before it loads); and
// Node's DEP0123 warning for an IP-address servername never reaches stderr.

import { afterEach, describe, expect, it } from 'vitest';
import { honourDnsServers } from '../src/connection/dns-env.js';
import { authorityHost } from '../src/targets/channel.js';
import { runCli, startCli } from './harness/cli-process.js';
import { NxdomainDnsServer } from './harness/dns-server.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { makeTlsMaterial, serverCredentials } from './harness/tls-material.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

describe('authority as the TLS name', () => {
  it('verifies the certificate against the authority when server_name is empty', async () => {
    const tls = makeTlsMaterial();
    const server = await new GrpcTarget({
      health: { '': 'SERVING' },
      credentials: serverCredentials(tls.server),
    }).start();
    cleanup.push(() => server.stop());
    // The certificate names localhost and 127.0.0.1: by the address alone both targets would pass.
    const app = await new RunningApp(
      testConfig(
        `  - name: good\n    address: "${server.address}"\n    authority: "localhost:${server.port}"\n    interval: 1s\n    timeout: 800ms\n    tls: { ca_file: "${tls.caFile}" }\n` +
          `  - name: bad\n    address: "${server.address}"\n    authority: "orders.example:443"\n    interval: 1s\n    timeout: 800ms\n    tls: { ca_file: "${tls.caFile}" }\n`,
      ),
    ).start();
    cleanup.push(() => app.close());
    await app.waitForMetric(
      'grpc_probe_health_status',
      { target: 'good', health_service: '', status: 'SERVING' },
      1,
      8000,
    );
    await app.waitForMetricAtLeast(
      'grpc_probe_failures_total',
      { target: 'bad', probe: 'health', reason: 'tls_error' },
      1,
      8000,
    );
  });

  it('takes the host of the authority', () => {
    expect(authorityHost('orders.example:443')).toBe('orders.example');
    expect(authorityHost('orders.example')).toBe('orders.example');
    expect(authorityHost('[::1]:50051')).toBe('::1');
  });
});

describe('dns://SERVER/name', () => {
  it('check asks the named DNS server, with no resolver env set', async () => {
    const dns = await new NxdomainDnsServer().start();
    cleanup.push(() => dns.close());
    const env = { ...process.env };
    delete env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER;
    const child = startCli(['check', `-addr=dns://127.0.0.1:${dns.port}/orders.nowhere.test:50051`], env);
    const result = await child.exited;
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/\(reason: dns_error\)\n$/);
    expect(dns.queries).toBeGreaterThan(0);
  });

  it('turns the c-ares resolver on only for an address that names its server, and respects a choice', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(honourDnsServers(['dns:///orders.svc:50051', '127.0.0.1:1'], env)).toBe(false);
    expect(env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER).toBeUndefined();
    expect(honourDnsServers(['dns://10.0.0.10:53/orders.svc:50051'], env)).toBe(true);
    expect(env.GRPC_NODE_USE_ALTERNATIVE_RESOLVER).toBe('true');
    expect(honourDnsServers(['dns://10.0.0.10/x:1'], { GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'false' })).toBe(
      false,
    );
  });
});

describe('DEP0123', () => {
  it('a TLS check of an IP address prints no DEP0123 warning', async () => {
    const tls = makeTlsMaterial();
    const server = await new GrpcTarget({
      health: { '': 'SERVING' },
      credentials: serverCredentials(tls.server),
    }).start();
    cleanup.push(() => server.stop());
    const result = await runCli(['check', `-addr=${server.address}`, '-tls', `-tls-ca-cert=${tls.caFile}`]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('status: SERVING\n');
  });
});
