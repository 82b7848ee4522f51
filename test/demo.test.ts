// The embedded demo target, run through the real App as `npm start` runs it, with a faster rhythm.

import { afterEach, expect, it } from 'vitest';
import { RunningApp } from './harness/running-app.js';

let app: RunningApp | undefined;
afterEach(async () => {
  await app?.close();
});

it('shows demo.Echo flipping to NOT_SERVING and back in /metrics', async () => {
  app = await new RunningApp('server: { listen: "127.0.0.1:0" }\ndemo: { enabled: true }\n', {
    demo: { flipEveryMs: 300, notServingMs: 100 },
  }).start();
  const echo = { target: 'demo', health_service: 'demo.Echo' };
  await app.waitForMetric('grpc_probe_health_status', { ...echo, status: 'SERVING' }, 1);
  await app.waitForMetric('grpc_probe_health_status', { ...echo, status: 'NOT_SERVING' }, 1, 3000);
  await app.waitForMetric('grpc_probe_health_status', { ...echo, status: 'SERVING' }, 1, 3000);
  expect(
    await app.metric('grpc_probe_health_changes_total', { ...echo, status: 'NOT_SERVING' }),
  ).toBeGreaterThanOrEqual(1);
  // The whole server stays SERVING throughout.
  expect(
    await app.metric('grpc_probe_health_changes_total', {
      target: 'demo',
      health_service: '',
      status: 'NOT_SERVING',
    }),
  ).toBe(0);
});
