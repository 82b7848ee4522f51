// A gRPC target in its own process for the benches (its CPU must not count as the prober's): the
// health service and probetest.v1.Echo (with a per-request delay). Prints "PORT <n>".

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
const server = new Server({ 'grpc.max_concurrent_streams': 10_000 });
new HealthImplementation({ '': 'SERVING' }).addToServer(server);
server.addService(pkg['probetest.v1.Echo'] as ServiceDefinition, {
  Echo: (
    call: { request: { message: string; delay_ms: number } },
    callback: (e: null, r: unknown) => void,
  ) => {
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
