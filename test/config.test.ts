// Config loading against fixture files: every invalid-*.yaml is paired with the exact message a user
// sees (file, line, path, what is wrong), as blackbox_exporter's config tests do.

import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile } from '../src/config/load.js';
import { Secret } from '../src/config/secret.js';

const DIR = 'test/fixtures/config';

const INVALID: [string, string][] = [
  [
    'invalid-bad-address.yaml',
    `${DIR}/invalid-bad-address.yaml:3: targets[0].address: invalid address "orders.default.svc" (expected host:port, dns:///host:port or unix:PATH)`,
  ],
  [
    'invalid-bad-duration.yaml',
    `${DIR}/invalid-bad-duration.yaml:2: defaults.interval: invalid duration "15 seconds" (expected Prometheus units such as 500ms, 10s, 1m30s)`,
  ],
  [
    'invalid-bad-health-mode.yaml',
    `${DIR}/invalid-bad-health-mode.yaml:6: targets[0].health[0].mode: must be one of "watch", "check"`,
  ],
  ['invalid-bad-listen.yaml', `${DIR}/invalid-bad-listen.yaml:1: server.listen: "9479" is not host:port`],
  [
    'invalid-bad-log-level.yaml',
    `${DIR}/invalid-bad-log-level.yaml:1: log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace", "silent"`,
  ],
  [
    'invalid-bad-metadata-key.yaml',
    `${DIR}/invalid-bad-metadata-key.yaml:5: targets[0].metadata.grpc-timeout: metadata keys may not start with "grpc-" (reserved for gRPC)`,
  ],
  [
    'invalid-bad-rpc-method.yaml',
    `${DIR}/invalid-bad-rpc-method.yaml:6: targets[0].rpcs[0].method: expected package.Service/Method`,
  ],
  [
    'invalid-bad-service-name.yaml',
    `${DIR}/invalid-bad-service-name.yaml:5: targets[0].health[0].service: invalid service name (expected "" or a name such as orders.v1.Orders)`,
  ],
  [
    'invalid-bad-target-name.yaml',
    `${DIR}/invalid-bad-target-name.yaml:2: targets[0].name: must match [a-zA-Z0-9_.-]+`,
  ],
  [
    'invalid-ca-not-pem.yaml',
    `${DIR}/invalid-ca-not-pem.yaml:5: targets[0].tls.ca_file: contains no PEM certificate (-----BEGIN CERTIFICATE-----)`,
  ],
  [
    'invalid-dns-server-name.yaml',
    `${DIR}/invalid-dns-server-name.yaml:3: targets[0].address: DNS server "resolver.internal" in "dns://resolver.internal/orders:50051" must be an IP address, optionally with a port`,
  ],
  [
    'invalid-duration-too-long.yaml',
    `${DIR}/invalid-duration-too-long.yaml:4: targets[0].interval: duration "30d" is longer than the maximum of 24d`,
  ],
  [
    'invalid-max-latency-not-below-timeout.yaml',
    `${DIR}/invalid-max-latency-not-below-timeout.yaml:9: targets[0].rpcs[0].expect.max_latency: max_latency 2s must be shorter than the rpc's timeout 1s (a slower call ends in DEADLINE_EXCEEDED)`,
  ],
  [
    'invalid-metadata-bin-string.yaml',
    `${DIR}/invalid-metadata-bin-string.yaml:5: targets[0].metadata.trace-bin: a "-bin" key needs a base64 value (or { from_file: PATH } with the raw bytes)`,
  ],
  [
    'invalid-metadata-newline.yaml',
    `${DIR}/invalid-metadata-newline.yaml:5: targets[0].metadata.x-team: value has a line break at character 6: metadata values are printable ASCII (use a "-bin" key for binary data)`,
  ],
  [
    'invalid-metadata-non-ascii.yaml',
    `${DIR}/invalid-metadata-non-ascii.yaml:5: targets[0].metadata.x-team: value has a non-ASCII character at character 4: metadata values are printable ASCII (use a "-bin" key for binary data)`,
  ],
  [
    'invalid-metadata-reserved.yaml',
    `${DIR}/invalid-metadata-reserved.yaml:9: targets[0].rpcs[0].metadata.content-type: "content-type" is set by gRPC/HTTP2 itself and cannot be sent as metadata`,
  ],
  [
    'invalid-metadata-too-large.yaml',
    `${DIR}/invalid-metadata-too-large.yaml:4: targets[0].metadata: metadata is 9005 bytes, more than gRPC's 8192 bytes per call`,
  ],
  [
    'invalid-secret-not-printable.yaml',
    `${DIR}/invalid-secret-not-printable.yaml:5: targets[0].metadata.authorization.from_env: value has a line break at character 11: metadata values are printable ASCII (use a "-bin" key for binary data) (in env GRPC_PULSE_TEST_BAD_TOKEN)`,
  ],
  [
    'invalid-too-many-targets.yaml',
    `${DIR}/invalid-too-many-targets.yaml:2: targets: 2 targets configured, more than limits.max_targets (1); raise it or split the config`,
  ],
  [
    'invalid-yaml-alias-bomb.yaml',
    `${DIR}/invalid-yaml-alias-bomb.yaml: YAML aliases expand to more than 100 copies (an alias bomb?); write the values out`,
  ],
  ['invalid-yaml-too-deep.yaml', `${DIR}/invalid-yaml-too-deep.yaml:1: nesting deeper than 64 levels`],
  [
    'invalid-cert-without-key.yaml',
    `${DIR}/invalid-cert-without-key.yaml:4: targets[0].tls: cert_file and key_file must be given together`,
  ],
  [
    'invalid-defaults-timeout.yaml',
    `${DIR}/invalid-defaults-timeout.yaml:2: defaults.timeout: timeout 1m must be shorter than interval 30s`,
  ],
  [
    'invalid-demo-name-reserved.yaml',
    `${DIR}/invalid-demo-name-reserved.yaml:3: targets[0].name: target name "demo" is reserved while demo.enabled is true`,
  ],
  [
    'invalid-duplicate-service.yaml',
    `${DIR}/invalid-duplicate-service.yaml:6: targets[0].health[1].service: duplicate health service "orders.v1.Orders"`,
  ],
  [
    'invalid-duplicate-target.yaml',
    `${DIR}/invalid-duplicate-target.yaml:4: targets[1].name: duplicate target name "orders" (first used by targets[0])`,
  ],
  [
    'invalid-duplicate-yaml-key.yaml',
    `${DIR}/invalid-duplicate-yaml-key.yaml:4: YAML syntax error: Map keys must be unique`,
  ],
  [
    'invalid-duration-number.yaml',
    `${DIR}/invalid-duration-number.yaml:4: targets[0].interval: expected a duration string such as "10s"`,
  ],
  [
    'invalid-duration-unit-order.yaml',
    `${DIR}/invalid-duration-unit-order.yaml:4: targets[0].timeout: invalid duration "30s1m" (expected Prometheus units such as 500ms, 10s, 1m30s)`,
  ],
  [
    'invalid-empty-file.yaml',
    `${DIR}/invalid-empty-file.yaml: targets: no targets configured (add one under targets, or set demo.enabled: true)`,
  ],
  [
    'invalid-empty-targets.yaml',
    `${DIR}/invalid-empty-targets.yaml:1: targets: no targets configured (add one under targets, or set demo.enabled: true)`,
  ],
  ['invalid-missing-address.yaml', `${DIR}/invalid-missing-address.yaml:2: targets[0].address: is required`],
  [
    'invalid-missing-ca-file.yaml',
    `${DIR}/invalid-missing-ca-file.yaml:5: targets[0].tls.ca_file: cannot read file "files/no-such-ca.pem": ENOENT`,
  ],
  [
    'invalid-missing-env-secret.yaml',
    `${DIR}/invalid-missing-env-secret.yaml:5: targets[0].metadata.authorization.from_env: environment variable GRPC_PULSE_TEST_UNSET_TOKEN is not set`,
  ],
  [
    'invalid-missing-secret-file.yaml',
    `${DIR}/invalid-missing-secret-file.yaml:5: targets[0].metadata.authorization.from_file: cannot read secret file "files/missing-token.txt": ENOENT`,
  ],
  [
    'invalid-nothing-to-probe.yaml',
    `${DIR}/invalid-nothing-to-probe.yaml:2: targets[0]: nothing to probe: health and rpcs are both empty`,
  ],
  [
    'invalid-port-range.yaml',
    `${DIR}/invalid-port-range.yaml:3: targets[0].address: port 70000 in "localhost:70000" is out of range (0-65535)`,
  ],
  [
    'invalid-rpc-bad-code.yaml',
    `${DIR}/invalid-rpc-bad-code.yaml:8: targets[0].rpcs[0].expect.code: unknown gRPC status "MISSING" (expected a name such as OK or NOT_FOUND)`,
  ],
  [
    'invalid-rpc-no-descriptor.yaml',
    `${DIR}/invalid-rpc-no-descriptor.yaml:5: targets[0].rpcs[0]: needs exactly one descriptor source: proto or reflection: true`,
  ],
  [
    'invalid-secret-shape.yaml',
    `${DIR}/invalid-secret-shape.yaml:5: targets[0].metadata.authorization: expected a string, { from_env: NAME } or { from_file: PATH }`,
  ],
  [
    'invalid-targets-not-list.yaml',
    `${DIR}/invalid-targets-not-list.yaml:1: targets: expected array, got map`,
  ],
  [
    'invalid-timeout-not-below-interval.yaml',
    `${DIR}/invalid-timeout-not-below-interval.yaml:5: targets[0].timeout: timeout 5s must be shorter than interval 5s`,
  ],
  ['invalid-unknown-key.yaml', `${DIR}/invalid-unknown-key.yaml:4: targets[0].adress: unknown key "adress"`],
  ['invalid-unknown-top-key.yaml', `${DIR}/invalid-unknown-top-key.yaml:1: target: unknown key "target"`],
  [
    'invalid-wrong-type.yaml',
    `${DIR}/invalid-wrong-type.yaml:4: targets[0].tls.enabled: expected boolean, got string`,
  ],
  [
    'invalid-yaml-syntax.yaml',
    `${DIR}/invalid-yaml-syntax.yaml:4: YAML syntax error: Missing closing "quote`,
  ],
  [
    'invalid-zero-timeout.yaml',
    `${DIR}/invalid-zero-timeout.yaml:4: targets[0].timeout: must be greater than 0s`,
  ],
];

/** A token with a line break: grpc-js would refuse it (and echo it) when the first call is made. */
const BAD_TOKEN = 'Bearer sk-\nlive-secret-4242';

function errorOf(
  file: string,
  env: NodeJS.ProcessEnv = { GRPC_PULSE_TEST_BAD_TOKEN: BAD_TOKEN },
): ConfigError {
  try {
    loadConfigFile(`${DIR}/${file}`, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error(`${file} loaded without error`);
}

describe('invalid configs', () => {
  it('has an expectation for every invalid fixture', () => {
    const fixtures = readdirSync(DIR)
      .filter((f) => f.startsWith('invalid-'))
      .sort();
    expect(INVALID.map(([f]) => f).sort()).toEqual(fixtures);
    expect(fixtures.length).toBeGreaterThanOrEqual(20);
  });

  it.each(INVALID)('%s is rejected with its exact message', (file, message) => {
    expect(errorOf(file).message).toBe(message);
  });

  it('lists every problem of a file at once, in line order', () => {
    const error = errorOf('../config-multi/invalid-many.yaml');
    expect(error.problems.map((p) => `${p.line} ${p.path}`)).toEqual([
      '2 targets[0].address',
      '3 targets[0].adress',
      '4 targets[0].interval',
      '5 targets[1].name',
      '6 targets[1].address',
    ]);
  });

  it('names a missing file in one line', () => {
    expect(errorOf('no-such-file.yaml').message).toBe(
      `${DIR}/no-such-file.yaml: cannot read config file: no such file`,
    );
  });
});

describe('valid configs', () => {
  it('fills every target from defaults and resolves secrets', () => {
    const config = loadConfigFile(`${DIR}/valid-full.yaml`, { env: { GRPC_PULSE_TEST_TOKEN: 'env-token' } });
    const [orders, payments] = config.targets;
    expect(orders?.timeoutMs).toBe(5000);
    expect(orders?.keepalive).toEqual({ timeMs: 30_000, timeoutMs: 10_000, permitWithoutCalls: true });
    expect(orders?.rpcs[0]).toMatchObject({
      intervalMs: 10_000,
      timeoutMs: 2000,
      expect: { code: 5, max_latency: 500 },
    });
    expect(orders?.tls?.ca_file).toContain('BEGIN CERTIFICATE');
    expect(payments?.intervalMs).toBe(90_000);
    expect(payments?.keepalive.timeMs).toBe(60_000);
    expect(payments?.health).toEqual([{ service: '', mode: 'watch' }]);

    const token = orders?.metadata.authorization;
    expect(token).toBeInstanceOf(Secret);
    expect((token as Secret).reveal()).toBe('env-token');
    expect((orders?.metadata['x-team'] as Secret | undefined)?.reveal()).toBe('secret-token-value');
    // A secret never prints: not in JSON, not in string form.
    expect(JSON.stringify(config)).not.toContain('env-token');
    expect(`${token}`).not.toContain('env-token');
  });

  it('freezes the result', () => {
    const config = loadConfigFile(`${DIR}/valid-minimal.yaml`);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.targets[0]?.health)).toBe(true);
    expect(() => {
      (config.targets as unknown as unknown[]).push({});
    }).toThrow(TypeError);
  });

  it('accepts the shipped demo config', () => {
    expect(loadConfigFile('config/demo.yaml').demo.enabled).toBe(true);
  });
});
