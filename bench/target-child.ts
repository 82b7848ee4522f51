// A gRPC target in its own process for the benches (its CPU must not count as the prober's): the
// health service and probetest.v1.Echo (with a per-request delay). Prints "PORT <n>".
// SIGUSR2 starts counting Echo calls per second; the next SIGUSR2 prints
// "ARRIVALS <calls> <seconds> <busiest second's calls>", which shows whether probes run in lock-step.

import { Server, ServerCredentials, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { HealthImplementation } from 'grpc-health-check';

const pkg = loadSync('probetest/v1/echo.proto', {
  includeDirs: ['test/fixtures/protos'],
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
});

let window: { started: number; perSecond: Map<number, number> } | undefined;
process.on('SIGUSR2', () => {
  if (!window) {
    window = { started: performance.now(), perSecond: new Map() };
    return;
  }
  const counts = [...window.perSecond.values()];
  const seconds = Math.floor((performance.now() - window.started) / 1000);
  const total = counts.reduce((a, b) => a + b, 0);
  process.stdout.write(`ARRIVALS ${total} ${seconds} ${Math.max(0, ...counts)}\n`);
  window = undefined;
});

const server = new Server({ 'grpc.max_concurrent_streams': 10_000 });
new HealthImplementation({ '': 'SERVING' }).addToServer(server);
server.addService(pkg['probetest.v1.Echo'] as ServiceDefinition, {
  Echo: (
    call: { request: { message: string; delay_ms: number } },
    callback: (e: null, r: unknown) => void,
  ) => {
    if (window) {
      const second = Math.floor((performance.now() - window.started) / 1000);
      window.perSecond.set(second, (window.perSecond.get(second) ?? 0) + 1);
    }
    const answer = () => callback(null, { message: call.request.message, state: 'ACTIVE' });
    if (call.request.delay_ms > 0) setTimeout(answer, call.request.delay_ms);
    else answer();
  },
  Watch: () => {},
});
server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`PORT ${port}\n`);
});
