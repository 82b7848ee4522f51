// The floor of this stack: bare grpc-js + node:http doing grpc-pulse's basic job for N targets (one
// channel each, a health Watch stream, one unary rpc every interval, the results served on /metrics).
// Hand-written codecs and a one-function exposition: no config, no logger, no metrics library, no
// protobuf runtime. Whatever grpc-pulse costs above this is what it adds.
//
//   node .bench-dist/bench/floor.js ADDRESS TARGETS INTERVAL_MS   → prints "URL http://127.0.0.1:PORT"

import { createServer } from 'node:http';
import { Client, credentials, Metadata } from '@grpc/grpc-js';

const [address = '127.0.0.1:50051', count = '1', interval = '15000'] = process.argv.slice(2);
const targets = Number(count);
const intervalMs = Number(interval);

/** A protobuf message with one string field 1 (HealthCheckRequest, EchoRequest). */
function encodeString1(value: string): Buffer {
  const bytes = Buffer.from(value);
  if (bytes.length > 127) throw new Error('floor codec: strings up to 127 bytes');
  return bytes.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
}

/** HealthCheckResponse.status (field 1, varint); 0 (UNKNOWN) when absent. */
function decodeStatus(buffer: Buffer): number {
  return buffer.length >= 2 && buffer[0] === 0x08 ? (buffer[1] as number) : 0;
}

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface TargetState {
  name: string;
  health: number;
  watchUp: number;
  attempts: number;
  successes: number;
  success: number;
  counts: number[];
  sum: number;
}

const states: TargetState[] = [];
const echoRequest = encodeString1('hi');
const identity = (b: Buffer) => b;

function watch(client: Client, state: TargetState): void {
  const call = client.makeServerStreamRequest(
    '/grpc.health.v1.Health/Watch',
    identity,
    decodeStatus,
    encodeString1(''),
    new Metadata(),
  );
  call.on('data', (status: number) => {
    state.health = status;
    state.watchUp = 1;
  });
  call.on('error', () => {});
  call.on('status', () => {
    state.watchUp = 0;
    setTimeout(() => watch(client, state), 1000);
  });
}

function probe(client: Client, state: TargetState): void {
  const started = performance.now();
  state.attempts++;
  client.makeUnaryRequest(
    '/probetest.v1.Echo/Echo',
    identity,
    identity,
    echoRequest,
    new Metadata(),
    { deadline: Date.now() + 2000 },
    (err) => {
      const seconds = (performance.now() - started) / 1000;
      state.success = err ? 0 : 1;
      if (!err) state.successes++;
      let i = 0;
      while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
      state.counts[i] = (state.counts[i] ?? 0) + 1;
      state.sum += seconds;
    },
  );
}

for (let i = 0; i < targets; i++) {
  const state: TargetState = {
    name: `t${i}`,
    health: 0,
    watchUp: 0,
    attempts: 0,
    successes: 0,
    success: 0,
    counts: new Array(BUCKETS.length + 1).fill(0),
    sum: 0,
  };
  states.push(state);
  const client = new Client(address, credentials.createInsecure(), {
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  });
  watch(client, state);
  // No lockstep: first run at a random point of the interval, then fixed rate.
  setTimeout(() => {
    probe(client, state);
    setInterval(() => probe(client, state), intervalMs);
  }, Math.random() * intervalMs);
}

function render(): string {
  let text = '';
  for (const s of states) {
    const t = `target="${s.name}"`;
    text += `floor_health_status{${t}} ${s.health}\nfloor_watch_up{${t}} ${s.watchUp}\n`;
    text += `floor_attempts_total{${t}} ${s.attempts}\nfloor_success{${t}} ${s.success}\n`;
    let cumulative = 0;
    for (let i = 0; i <= BUCKETS.length; i++) {
      cumulative += s.counts[i] ?? 0;
      text += `floor_duration_seconds_bucket{${t},le="${BUCKETS[i] ?? '+Inf'}"} ${cumulative}\n`;
    }
    text += `floor_duration_seconds_sum{${t}} ${s.sum}\nfloor_duration_seconds_count{${t}} ${s.attempts}\n`;
  }
  return text;
}

const server = createServer((request, response) => {
  if (request.url !== '/metrics') {
    response.writeHead(404).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(render());
});
server.listen(0, '127.0.0.1', () => {
  const where = server.address();
  if (where && typeof where === 'object') process.stdout.write(`URL http://127.0.0.1:${where.port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
