// Reads the reason tables of docs/troubleshooting.md, the one source of what each failure and
// disconnect reason means and what to check. troubleshooting-table.ts is generated from it (`npm run
// docs-table`) and a test proves the two equal, so the page, `diagnose` and the docs never drift.

/** One row of a reason table, its cells as written (inline markdown: `code`, links). */
export interface TroubleshootingRow {
  reason: string;
  /** What the reason means: the likely cause (failures) or what happened (disconnects). */
  meaning: string;
  /** What to check first. */
  check: string;
  /** Messages a user may know this failure by (failures only). */
  symptom?: string;
  /** Whether the disconnect is a fault: "yes", "no", "—" (disconnects only). */
  fault?: string;
}

export interface TroubleshootingTables {
  failures: TroubleshootingRow[];
  disconnects: TroubleshootingRow[];
}

/** Splits a markdown table row into trimmed cells; `\|` stays a literal bar. */
function cells(line: string): string[] {
  const inner = line.trim().replace(/^\|/, '').replace(/\|$/, '');
  return inner.split(/(?<!\\)\|/).map((c) => c.trim().replace(/\\\|/g, '|'));
}

/** The first table after the heading that starts with `heading`, as rows keyed by header text. */
function tableAfter(markdown: string, heading: string): Record<string, string>[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`## ${heading}`));
  if (start < 0) throw new Error(`docs/troubleshooting.md: no "## ${heading}" section`);
  let i = start + 1;
  while (i < lines.length && !lines[i]?.trim().startsWith('|')) {
    if (lines[i]?.startsWith('## ')) throw new Error(`docs/troubleshooting.md: "${heading}" has no table`);
    i++;
  }
  const header = cells(lines[i] ?? '');
  const rows: Record<string, string>[] = [];
  // i + 1 is the |---| separator.
  for (let j = i + 2; j < lines.length && lines[j]?.trim().startsWith('|'); j++) {
    const row = cells(lines[j] ?? '');
    rows.push(Object.fromEntries(header.map((h, k) => [h, row[k] ?? ''])));
  }
  return rows;
}

/** The reason cell holds the reason in backticks: `dns_error`. */
function reasonOf(cell: string | undefined, heading: string): string {
  const match = /^`([a-z_]+)`$/.exec(cell ?? '');
  if (!match?.[1]) throw new Error(`docs/troubleshooting.md: "${heading}" row with reason cell "${cell}"`);
  return match[1];
}

function column(row: Record<string, string>, names: string[], heading: string): string {
  for (const name of names) if (row[name] !== undefined) return row[name];
  throw new Error(`docs/troubleshooting.md: "${heading}" has no column ${names.join(' or ')}`);
}

export function parseTroubleshooting(markdown: string): TroubleshootingTables {
  const failureHeading = 'Probe failures';
  const disconnectHeading = 'Disconnects';
  return {
    failures: tableAfter(markdown, failureHeading).map((row) => ({
      reason: reasonOf(row.reason, failureHeading),
      meaning: column(row, ['likely cause'], failureHeading),
      check: column(row, ['what to check'], failureHeading),
      symptom: column(row, ['symptom you may know'], failureHeading),
    })),
    disconnects: tableAfter(markdown, disconnectHeading).map((row) => ({
      reason: reasonOf(row.reason, disconnectHeading),
      meaning: column(row, ['means'], disconnectHeading),
      check: column(row, ['what to check'], disconnectHeading),
      fault: column(row, ['fault?'], disconnectHeading),
    })),
  };
}

/** This module, as the generated file imports it (kept out of an import-looking literal). */
const SELF = './troubleshooting-source.js';

/** The generated module's text (biome formats it afterwards; the test compares values, not text). */
export function renderTableModule(tables: TroubleshootingTables): string {
  return `// GENERATED from docs/troubleshooting.md by \`npm run docs-table\`: edit the markdown, not this file.
// test/troubleshooting-table.test.ts fails when the two differ.

import type { TroubleshootingTables } from '${SELF}';

export const TROUBLESHOOTING_TABLES: TroubleshootingTables = ${JSON.stringify(tables, null, 2)};
`;
}
