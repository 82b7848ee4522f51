// A real Prometheus evaluating a rule file and a real Alertmanager delivering to a webhook here, all
// on 127.0.0.1 (the end-to-end alert tests). Scrapes and evaluations every second.

import { freePort, ServiceProcess, tempDir, WebhookReceiver, waitReady, writeFile } from './services.js';
import { waitFor } from './wait-for.js';

export interface ScrapeJob {
  job: string;
  /** host:port on loopback. */
  target: string;
}

export interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

export class PromStack {
  readonly webhook = new WebhookReceiver();
  #prometheus: ServiceProcess | undefined;
  #alertmanager: ServiceProcess | undefined;
  #promPort = 0;

  async start(rulesYaml: string, jobs: ScrapeJob[]): Promise<this> {
    const dir = tempDir('e2e');
    const rules = writeFile(dir, 'rules.yaml', rulesYaml);
    await this.webhook.start();
    const amPort = await freePort();
    const amConfig = writeFile(
      dir,
      'alertmanager.yaml',
      `route: { receiver: test, group_by: [alertname], group_wait: 1s, group_interval: 1s, repeat_interval: 1h }\n` +
        `receivers: [ { name: test, webhook_configs: [ { url: "http://127.0.0.1:${this.webhook.port}/", send_resolved: true } ] } ]\n`,
    );
    this.#alertmanager = new ServiceProcess('prometheus-alertmanager', [
      `--config.file=${amConfig}`,
      `--storage.path=${dir}/am`,
      `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=',
    ]);
    this.#promPort = await freePort();
    const scrapes = jobs
      .map((j) => `  - { job_name: ${j.job}, static_configs: [ { targets: [ "${j.target}" ] } ] }\n`)
      .join('');
    const promConfig = writeFile(
      dir,
      'prometheus.yaml',
      `global: { scrape_interval: 1s, evaluation_interval: 1s }\n` +
        `rule_files: [ "${rules}" ]\n` +
        `alerting: { alertmanagers: [ { static_configs: [ { targets: [ "127.0.0.1:${amPort}" ] } ] } ] }\n` +
        `scrape_configs:\n${scrapes}`,
    );
    this.#prometheus = new ServiceProcess('prometheus', [
      `--config.file=${promConfig}`,
      `--storage.tsdb.path=${dir}/tsdb`,
      `--web.listen-address=127.0.0.1:${this.#promPort}`,
    ]);
    await waitReady(`http://127.0.0.1:${amPort}/-/ready`, this.#alertmanager);
    await waitReady(`http://127.0.0.1:${this.#promPort}/-/ready`, this.#prometheus);
    return this;
  }

  /** An instant query; the result's samples with their labels. */
  async query(promql: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const response = await fetch(
      `http://127.0.0.1:${this.#promPort}/api/v1/query?query=${encodeURIComponent(promql)}`,
    );
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== 'success') throw new Error(`query ${promql} failed: ${body.error}`);
    return body.data.result;
  }

  /** Prometheus' pending and firing alerts. */
  async alerts(): Promise<PromAlert[]> {
    const body = (await (await fetch(`http://127.0.0.1:${this.#promPort}/api/v1/alerts`)).json()) as {
      data: { alerts: PromAlert[] };
    };
    return body.data.alerts;
  }

  /** Waits until Prometheus fires `alertname`; returns its firing alerts. */
  async waitFiring(alertname: string, timeoutMs: number): Promise<PromAlert[]> {
    const alerts = await waitFor(
      async () => (await this.alerts()).filter((a) => a.labels.alertname === alertname),
      (list) => list.some((a) => a.state === 'firing'),
      {
        timeoutMs,
        what: `${alertname} to fire in Prometheus; its log:\n${this.#prometheus?.output.slice(-1500)}`,
      },
    );
    return alerts.filter((a) => a.state === 'firing');
  }

  /** Waits until Alertmanager delivered `alertname` firing to the webhook; returns every delivered alert. */
  async waitDelivered(alertname: string, timeoutMs: number) {
    return waitFor(
      () => this.webhook.notifications.flatMap((n) => n.alerts),
      (alerts) => alerts.some((a) => a.labels.alertname === alertname && a.status === 'firing'),
      { timeoutMs, what: `Alertmanager to deliver ${alertname} to the webhook` },
    );
  }

  async stop(): Promise<void> {
    await this.#prometheus?.stop();
    await this.#alertmanager?.stop();
    await this.webhook.close();
  }
}
