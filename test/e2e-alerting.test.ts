// End to end: a real Prometheus scrapes a real grpc-pulse probing a real gRPC server, evaluates the
// generated rules (with short `for`s), and a real Alertmanager delivers the alert to a webhook here.
// Bounded to about a minute.

import { afterEach, expect, it } from 'vitest';
import { renderRules } from '../src/alerts/render.js';
import { buildRuleGroups } from '../src/alerts/rules.js';
import { parseConfigText } from '../src/config/load.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { needs } from './harness/needs.js';
import { PromStack } from './harness/prom-stack.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import { tempDir } from './harness/services.js';
import { hasCommand } from './harness/tools.js';
import { waitFor } from './harness/wait-for.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

it('NOT_SERVING reaches Prometheus as a firing alert and Alertmanager delivers it', {
  timeout: 120_000,
}, async (context) => {
  needs(
    context,
    hasCommand('prometheus') && hasCommand('prometheus-alertmanager'),
    'prometheus and prometheus-alertmanager',
  );

  const target = await new GrpcTarget({ health: { '': 'SERVING', 'orders.v1.Orders': 'SERVING' } }).start();
  cleanup.push(() => target.stop());
  const pulse = await new RunningApp(
    testConfig(
      `  - name: orders\n    address: "${target.address}"\n    health: [ { service: orders.v1.Orders } ]\n`,
    ),
  ).start();
  cleanup.push(() => pulse.close());

  // The generated rules, with the selector of this job and `for`s short enough for a test.
  const options = parseConfigText(
    'demo: { enabled: true }\nalerts:\n  selector: \'job="grpc-pulse-e2e"\'\n  for: { health_not_serving: 2s }\n',
    'e2e.yaml',
    { baseDir: tempDir('e2e'), env: {} },
  ).alerts;
  const stack = new PromStack();
  cleanup.push(() => stack.stop());
  await stack.start(renderRules(buildRuleGroups(options), 'rules', options), [
    { job: 'grpc-pulse-e2e', target: new URL(pulse.url).host },
  ]);
  await waitFor(
    () => stack.query('grpc_probe_health_status{job="grpc-pulse-e2e", status="SERVING"} == 1'),
    (r) => r.length === 1,
    { timeoutMs: 20_000, what: 'Prometheus to scrape grpc-pulse' },
  );

  target.setStatus('orders.v1.Orders', 'NOT_SERVING');

  const firing = await stack.waitFiring('GrpcHealthNotServing', 30_000);
  expect(firing[0]?.labels).toMatchObject({
    target: 'orders',
    health_service: 'orders.v1.Orders',
    status: 'NOT_SERVING',
    severity: 'critical',
  });

  const delivered = await stack.waitDelivered('GrpcHealthNotServing', 30_000);
  const alert = delivered.find((a) => a.labels.alertname === 'GrpcHealthNotServing');
  expect(alert?.labels.target).toBe('orders');
  // Nothing else fired: a healthy sidecar and target do not page.
  const others = delivered.filter((a) => a.labels.alertname !== 'GrpcHealthNotServing');
  expect(others).toEqual([]);
});
