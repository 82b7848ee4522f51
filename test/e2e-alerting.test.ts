// End to end: a real Prometheus scrapes a real grpc-pulse probing a real gRPC server, evaluates the
// generated rules (with short `for`s), and a real Alertmanager delivers the alert to a webhook here.
// Bounded to about a minute.

import { afterEach, expect, it } from 'vitest';
import { renderRules } from '../src/alerts/render.js';
import { buildRuleGroups } from '../src/alerts/rules.js';
import { parseConfigText } from '../src/config/load.js';
import { GrpcTarget } from './harness/grpc-target.js';
import { needs } from './harness/needs.js';
import { RunningApp, testConfig } from './harness/running-app.js';
import {
  freePort,
  ServiceProcess,
  tempDir,
  WebhookReceiver,
  waitReady,
  writeFile,
} from './harness/services.js';
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
  const dir = tempDir('e2e');
  const options = parseConfigText(
    'demo: { enabled: true }\nalerts:\n  selector: \'job="grpc-pulse-e2e"\'\n  for: { health_not_serving: 2s }\n',
    'e2e.yaml',
    { baseDir: dir, env: {} },
  ).alerts;
  const rules = writeFile(dir, 'rules.yaml', renderRules(buildRuleGroups(options), 'rules', options));

  const webhook = await new WebhookReceiver().start();
  cleanup.push(() => webhook.close());
  const amPort = await freePort();
  const amConfig = writeFile(
    dir,
    'alertmanager.yaml',
    `route: { receiver: test, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }\n` +
      `receivers: [ { name: test, webhook_configs: [ { url: "http://127.0.0.1:${webhook.port}/", send_resolved: true } ] } ]\n`,
  );
  const alertmanager = new ServiceProcess('prometheus-alertmanager', [
    `--config.file=${amConfig}`,
    `--storage.path=${dir}/am`,
    `--web.listen-address=127.0.0.1:${amPort}`,
    '--cluster.listen-address=',
  ]);
  cleanup.push(() => alertmanager.stop());

  const promPort = await freePort();
  const pulseHost = new URL(pulse.url).host;
  const promConfig = writeFile(
    dir,
    'prometheus.yaml',
    `global: { scrape_interval: 1s, evaluation_interval: 1s }\n` +
      `rule_files: [ "${rules}" ]\n` +
      `alerting: { alertmanagers: [ { static_configs: [ { targets: [ "127.0.0.1:${amPort}" ] } ] } ] }\n` +
      `scrape_configs: [ { job_name: grpc-pulse-e2e, static_configs: [ { targets: [ "${pulseHost}" ] } ] } ]\n`,
  );
  const prometheus = new ServiceProcess('prometheus', [
    `--config.file=${promConfig}`,
    `--storage.tsdb.path=${dir}/tsdb`,
    `--web.listen-address=127.0.0.1:${promPort}`,
  ]);
  cleanup.push(() => prometheus.stop());

  await waitReady(`http://127.0.0.1:${amPort}/-/ready`, alertmanager);
  await waitReady(`http://127.0.0.1:${promPort}/-/ready`, prometheus);
  const query = async (promql: string) => {
    const body = (await (
      await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(promql)}`)
    ).json()) as {
      data: { result: { value: [number, string] }[] };
    };
    return body.data.result;
  };
  await waitFor(
    () => query('grpc_probe_health_status{job="grpc-pulse-e2e", status="SERVING"} == 1'),
    (r) => r.length === 1,
    {
      timeoutMs: 20_000,
      what: 'Prometheus to scrape grpc-pulse',
    },
  );

  target.setStatus('orders.v1.Orders', 'NOT_SERVING');

  const firing = await waitFor(
    async () => {
      const body = (await (await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`)).json()) as {
        data: { alerts: { labels: Record<string, string>; state: string }[] };
      };
      return body.data.alerts.filter((a) => a.labels.alertname === 'GrpcHealthNotServing');
    },
    (alerts) => alerts.some((a) => a.state === 'firing'),
    { timeoutMs: 30_000, what: 'GrpcHealthNotServing to fire in Prometheus' },
  );
  expect(firing[0]?.labels).toMatchObject({
    target: 'orders',
    health_service: 'orders.v1.Orders',
    status: 'NOT_SERVING',
    severity: 'critical',
  });

  const delivered = await waitFor(
    () => webhook.notifications.flatMap((n) => n.alerts),
    (alerts) => alerts.some((a) => a.labels.alertname === 'GrpcHealthNotServing' && a.status === 'firing'),
    { timeoutMs: 30_000, what: 'Alertmanager to deliver GrpcHealthNotServing to the webhook' },
  );
  const alert = delivered.find((a) => a.labels.alertname === 'GrpcHealthNotServing');
  expect(alert?.labels.target).toBe('orders');
  // Nothing else fired: a healthy sidecar and target do not page.
  const others = delivered.filter((a) => a.labels.alertname !== 'GrpcHealthNotServing');
  expect(others).toEqual([]);
});
