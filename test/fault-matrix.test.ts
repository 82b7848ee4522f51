// The fault matrix (`npm run faults`, also part of `npm test`): every fault in test/faults/catalog.ts
// through the daemon and through `check`, each judged against SPEC's reason. Prints the share right
// and every miss; fails when any fault is misread or any verdict is `unknown`.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAULTS, faultEnv } from './faults/catalog.js';
import { formatReport, runMatrix, type Verdict } from './faults/run-matrix.js';

let verdicts: Verdict[] = [];

beforeAll(async () => {
  verdicts = await runMatrix(FAULTS, faultEnv());
  process.stdout.write(`\nfault matrix (${FAULTS.length} faults)\n${formatReport(verdicts)}\n`);
}, 240_000);

afterAll(() => {
  verdicts = [];
});

describe('fault matrix', () => {
  it('has at least 60 faults, each named once', () => {
    expect(FAULTS.length).toBeGreaterThanOrEqual(60);
    expect(new Set(FAULTS.map((f) => f.name)).size).toBe(FAULTS.length);
  });

  it('no verdict is unknown', () => {
    expect(verdicts.filter((v) => 'unknown' in v.got).map((v) => `${v.door}:${v.fault.name}`)).toEqual([]);
  });

  it('every fault gets its SPEC reason through both doors', () => {
    expect(verdicts.length).toBeGreaterThan(FAULTS.length);
    expect(
      verdicts.filter((v) => !v.right).map((v) => `${v.door}:${v.fault.name}: ${JSON.stringify(v.got)}`),
    ).toEqual([]);
  });
});
