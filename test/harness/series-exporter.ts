// A small Prometheus exporter on 127.0.0.1 that serves an application's gRPC server metrics as a real
// server library would shape them (go-grpc-prometheus counters, OpenTelemetry A66 histograms), with
// per-series call rates a test changes while Prometheus scrapes. Values grow with the monotonic clock.

import { createServer, type Server } from 'node:http';
import { listenLoopback } from './listen.js';

type Labels = Record<string, string>;

interface Family {
  name: string;
  type: 'counter' | 'histogram';
  help: string;
  /** Histogram bucket bounds (seconds), without +Inf. */
  buckets: number[];
}

interface Series {
  family: Family;
  labels: Labels;
  /** Calls per second from `since` on. */
  rate: number;
  /** Each call of a histogram series takes this long (seconds). */
  latency: number;
  /** Calls counted up to `since`; per bucket (the last is +Inf) for histograms. */
  count: number;
  buckets: number[];
  since: number;
}

const nowSeconds = () => performance.now() / 1000;
const key = (name: string, labels: Labels) => `${name}${JSON.stringify(Object.entries(labels).sort())}`;
const escapeValue = (value: string) =>
  value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const render = (labels: Labels) =>
  `{${Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeValue(v)}"`)
    .join(',')}}`;

export class SeriesExporter {
  readonly #families = new Map<string, Family>();
  readonly #series = new Map<string, Series>();
  readonly #server: Server = createServer((request, response) => {
    if (request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.text());
  });
  port = 0;

  async start(): Promise<this> {
    this.port = await listenLoopback(this.#server);
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** A counter family, e.g. grpc_server_handled_total. */
  counter(name: string, help: string): this {
    this.#families.set(name, { name, type: 'counter', help, buckets: [] });
    return this;
  }

  /** A histogram family, e.g. grpc_server_call_duration_seconds. */
  histogram(name: string, help: string, buckets: number[]): this {
    this.#families.set(name, { name, type: 'histogram', help, buckets });
    return this;
  }

  /** Sets the call rate of one series from now on (creating it at 0); `latency` for histograms. */
  setRate(name: string, labels: Labels, perSecond: number, latency = 0.01): this {
    const family = this.#families.get(name);
    if (family === undefined) throw new Error(`no family ${name}`);
    const id = key(name, labels);
    const now = nowSeconds();
    const existing = this.#series.get(id);
    const [count, buckets] =
      existing === undefined
        ? [0, [...family.buckets, Number.POSITIVE_INFINITY].map(() => 0)]
        : this.#countsAt(existing, now);
    this.#series.set(id, { family, labels, rate: perSecond, latency, count, buckets, since: now });
    return this;
  }

  /** Calls so far, in all and per bucket: a changed latency only affects calls after the change. */
  #countsAt(s: Series, now: number): [number, number[]] {
    const added = s.rate * (now - s.since);
    const bounds = [...s.family.buckets, Number.POSITIVE_INFINITY];
    return [s.count + added, s.buckets.map((c, i) => c + ((bounds[i] ?? 0) >= s.latency ? added : 0))];
  }

  /** The exposition text (format 0.0.4) at this instant. */
  text(): string {
    const now = nowSeconds();
    const lines: string[] = [];
    for (const family of this.#families.values()) {
      lines.push(`# HELP ${family.name} ${family.help}`, `# TYPE ${family.name} ${family.type}`);
      for (const s of this.#series.values()) {
        if (s.family !== family) continue;
        const [exact, buckets] = this.#countsAt(s, now);
        const count = Math.floor(exact);
        if (family.type === 'counter') {
          lines.push(`${family.name}${render(s.labels)} ${count}`);
          continue;
        }
        family.buckets.forEach((le, i) => {
          lines.push(
            `${family.name}_bucket${render({ ...s.labels, le: String(le) })} ${Math.floor(buckets[i] ?? 0)}`,
          );
        });
        lines.push(`${family.name}_bucket${render({ ...s.labels, le: '+Inf' })} ${count}`);
        lines.push(`${family.name}_sum${render(s.labels)} ${exact * s.latency}`);
        lines.push(`${family.name}_count${render(s.labels)} ${count}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((r) => this.#server.close(() => r()));
  }
}
