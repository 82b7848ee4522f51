// Tests that need a tool from Debian (python3-grpcio, prometheus, ...) skip with a reason on a
// developer machine without it, and fail in CI (CI=true), where .ci/run installs everything.

import type { TestContext } from 'vitest';

export function needs(context: TestContext, available: boolean, what: string): void {
  if (available) return;
  const message = `${what} is not installed (bash .ci/run installs it)`;
  if (process.env.CI === 'true') throw new Error(`CI: ${message}`);
  context.skip(message);
}
