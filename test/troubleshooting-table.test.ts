// docs/troubleshooting.md is the source of what each reason means: the generated table the page and
// `diagnose` read must equal it, and every reason of the fixed enums must have a row.

import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DISCONNECT_REASONS } from '../src/outcome/disconnect-reasons.js';
import { FAILURE_REASONS } from '../src/outcome/failure-reasons.js';
import { explainDisconnect, explainFailure } from '../src/outcome/troubleshooting.js';
import { parseTroubleshooting, renderTableModule } from '../src/outcome/troubleshooting-source.js';
import { TROUBLESHOOTING_TABLES } from '../src/outcome/troubleshooting-table.js';

const DOC = new URL('../docs/troubleshooting.md', import.meta.url);
const GENERATED = new URL('../src/outcome/troubleshooting-table.ts', import.meta.url);

describe('troubleshooting table', () => {
  it('is generated from docs/troubleshooting.md (npm run docs-table)', () => {
    const parsed = parseTroubleshooting(readFileSync(DOC, 'utf8'));
    if (process.env.UPDATE_DOCS_TABLE === '1') writeFileSync(GENERATED, renderTableModule(parsed));
    expect(TROUBLESHOOTING_TABLES, 'run `npm run docs-table` after editing the markdown').toEqual(parsed);
  });

  it('explains every failure and disconnect reason, with a runbook for every failure', () => {
    for (const reason of FAILURE_REASONS) {
      const e = explainFailure(reason);
      expect(e?.meaning, `docs/troubleshooting.md: failure reason ${reason}`).toMatch(/\w/);
      expect(e?.check, reason).toMatch(/\w/);
      expect(e?.runbook, reason).toMatch(/^Grpc/);
    }
    for (const reason of DISCONNECT_REASONS) {
      expect(explainDisconnect(reason)?.meaning, `disconnect reason ${reason}`).toMatch(/\w/);
    }
    const failureRows = TROUBLESHOOTING_TABLES.failures.map((r) => r.reason);
    expect(new Set(failureRows).size, 'a reason listed twice').toBe(failureRows.length);
  });

  it('links only runbooks that exist', () => {
    for (const reason of [...FAILURE_REASONS, ...DISCONNECT_REASONS]) {
      for (const e of [explainFailure(reason), explainDisconnect(reason)]) {
        if (!e?.runbook) continue;
        expect(() =>
          readFileSync(new URL(`../docs/runbooks/${e.runbook}.md`, import.meta.url)),
        ).not.toThrow();
      }
    }
  });

  it('names a broken table exactly', () => {
    expect(() => parseTroubleshooting('# nothing here\n')).toThrow('no "## Probe failures" section');
    const bad =
      '## Probe failures\n\n| symptom you may know | reason | likely cause | what to check |\n|---|---|---|---|\n| x | dns_error | a | b |\n';
    expect(() => parseTroubleshooting(bad)).toThrow('reason cell "dns_error"');
  });
});
