// End to end for the application-traffic rules: a real Prometheus scrapes a small exporter serving an
// application's own gRPC server metrics (go-grpc-prometheus counters; OpenTelemetry A66 histograms),
// evaluates the generated rules (short `for`s), and a real Alertmanager delivers to a webhook here.

import { afterEach, expect, it } from 'vitest';
import { renderRules } from '../src/alerts/render.js';
import { buildRuleGroups } from '../src/alerts/rules.js';
import { parseConfigText } from '../src/config/load.js';
import { needs } from './harness/needs.js';
import { PromStack } from './harness/prom-stack.js';
import { SeriesExporter } from './harness/series-exporter.js';
import { hasCommand } from './harness/tools.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

const haveTools = () => hasCommand('prometheus') && hasCommand('prometheus-alertmanager');

/** The generated rules for `server:` options given as YAML lines (indented under `server:`). */
function serverRules(serverYaml: string): string {
  const options = parseConfigText(
    `demo: { enabled: true }\nalerts:\n  server:\n    enabled: true\n${serverYaml}`,
    'e2e.yaml',
    { baseDir: '.', env: {} },
  ).alerts;
  return renderRules(buildRuleGroups(options), 'rules', options);
}

async function startExporter(): Promise<SeriesExporter> {
  const exporter = await new SeriesExporter().start();
  cleanup.push(() => exporter.close());
  return exporter;
}

async function startStack(rules: string, exporter: SeriesExporter): Promise<PromStack> {
  const stack = new PromStack();
  cleanup.push(() => stack.stop());
  return stack.start(rules, [{ job: 'orders', target: exporter.address }]);
}

it('go-grpc-prometheus: one of three pods takes 90% of the calls, and GrpcServerLoadSkew reaches Alertmanager', {
  timeout: 180_000,
}, async (context) => {
  needs(context, haveTools(), 'prometheus and prometheus-alertmanager');
  const exporter = (await startExporter()).counter(
    'grpc_server_handled_total',
    'Total number of RPCs completed on the server, regardless of success or failure.',
  );
  const pod = (name: string) => ({
    namespace: 'shop',
    pod: name,
    grpc_type: 'unary',
    grpc_service: 'orders.v1.Orders',
    grpc_method: 'GetOrder',
    grpc_code: 'OK',
  });
  // Balanced first: 10 calls/s spread over three pods.
  for (const name of ['orders-0', 'orders-1', 'orders-2'])
    exporter.setRate('grpc_server_handled_total', pod(name), 10 / 3);

  const stack = await startStack(
    serverRules('    conventions: [go_grpc_prometheus]\n    for: { load_skew: 3s }\n'),
    exporter,
  );
  // The recorded shape exists for all three pods, and a service without errors has an error ratio of 0.
  await waitFor(
    () => stack.query('grpc_pulse:server_pod_calls:rate5m{job="orders"} > 0'),
    (r) => r.length === 3,
    { timeoutMs: 30_000, what: 'Prometheus to record the call rate of three pods' },
  );
  const ratio = await waitFor(
    () => stack.query('grpc_pulse:server_errors:ratio_rate5m{job="orders"}'),
    (r) => r.length === 1,
    { timeoutMs: 20_000, what: 'the error ratio of a healthy service' },
  );
  expect(ratio[0]?.value[1]).toBe('0');
  expect((await stack.alerts()).filter((a) => a.labels.alertname === 'GrpcServerLoadSkew')).toEqual([]);

  // The LB pins the clients to orders-0.
  exporter.setRate('grpc_server_handled_total', pod('orders-0'), 9);
  exporter.setRate('grpc_server_handled_total', pod('orders-1'), 0.5);
  exporter.setRate('grpc_server_handled_total', pod('orders-2'), 0.5);

  const firing = await stack.waitFiring('GrpcServerLoadSkew', 90_000);
  expect(firing.map((a) => a.labels)).toEqual([
    {
      alertname: 'GrpcServerLoadSkew',
      severity: 'warning',
      namespace: 'shop',
      job: 'orders',
      grpc_service: 'orders.v1.Orders',
      pod: 'orders-0',
      convention: 'go_grpc_prometheus',
    },
  ]);
  expect(firing[0]?.annotations.runbook_url).toMatch(/\/GrpcServerLoadSkew\.md$/);

  const delivered = await stack.waitDelivered('GrpcServerLoadSkew', 30_000);
  expect(delivered.find((a) => a.labels.alertname === 'GrpcServerLoadSkew')?.labels.pod).toBe('orders-0');
  // Skew is not an error: nothing else paged.
  expect(delivered.filter((a) => a.labels.alertname !== 'GrpcServerLoadSkew')).toEqual([]);
});

it('OpenTelemetry (gRFC A66 names): a rising UNAVAILABLE rate fires GrpcServerUnavailableSpike in Alertmanager', {
  timeout: 180_000,
}, async (context) => {
  needs(context, haveTools(), 'prometheus and prometheus-alertmanager');
  const exporter = (await startExporter()).histogram(
    'grpc_server_call_duration_seconds',
    'Time taken by gRPC to complete an RPC from server transport perspective.',
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  );
  const call = (pod: string, status: string) => ({
    namespace: 'shop',
    pod,
    grpc_method: 'orders.v1.Orders/GetOrder',
    grpc_status: status,
    otel_scope_name: 'grpc-go',
  });
  exporter.setRate('grpc_server_call_duration_seconds', call('orders-0', 'OK'), 5, 0.02);
  exporter.setRate('grpc_server_call_duration_seconds', call('orders-1', 'OK'), 5, 0.02);

  const stack = await startStack(
    serverRules('    conventions: [opentelemetry]\n    for: { unavailable_spike: 3s }\n'),
    exporter,
  );
  // The service name comes from grpc_method; a healthy service's UNAVAILABLE ratio is 0, not absent.
  const healthy = await waitFor(
    () => stack.query('grpc_pulse:server_unavailable:ratio_rate5m{job="orders"}'),
    (r) => r.length === 1,
    { timeoutMs: 30_000, what: 'Prometheus to record the UNAVAILABLE ratio' },
  );
  expect(healthy[0]?.metric).toMatchObject({ grpc_service: 'orders.v1.Orders', convention: 'opentelemetry' });
  expect(healthy[0]?.value[1]).toBe('0');

  // orders-1 starts failing: 2 of its 5 calls a second end UNAVAILABLE (20% of the service's calls).
  exporter.setRate('grpc_server_call_duration_seconds', call('orders-1', 'OK'), 3, 0.02);
  exporter.setRate('grpc_server_call_duration_seconds', call('orders-1', 'UNAVAILABLE'), 2, 0.001);

  const firing = await stack.waitFiring('GrpcServerUnavailableSpike', 90_000);
  expect(firing.map((a) => a.labels)).toEqual([
    {
      alertname: 'GrpcServerUnavailableSpike',
      severity: 'warning',
      namespace: 'shop',
      job: 'orders',
      grpc_service: 'orders.v1.Orders',
      convention: 'opentelemetry',
    },
  ]);
  const delivered = await stack.waitDelivered('GrpcServerUnavailableSpike', 30_000);
  expect(
    delivered.find((a) => a.labels.alertname === 'GrpcServerUnavailableSpike')?.labels.grpc_service,
  ).toBe('orders.v1.Orders');
  // The 10-minute error-rate alert and the budget burn need longer: nothing else was delivered yet.
  expect(delivered.filter((a) => a.labels.alertname !== 'GrpcServerUnavailableSpike')).toEqual([]);
});
