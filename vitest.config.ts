import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Tests start real servers and child processes; two cores do not gain from more workers.
    maxWorkers: 2,
    env: {
      // What the CLI sets before grpc-js loads: the tracers that carry GOAWAY, keepalive and status
      // provenance evidence.
      GRPC_NODE_TRACE: 'transport,keepalive,subchannel_call',
      // Lets a `dns://127.0.0.1:PORT/name` target ask the test's own DNS server, so no query leaves
      // the machine (grpc-js reads this once, at load).
      GRPC_NODE_USE_ALTERNATIVE_RESOLVER: 'true',
    },
  },
});
