// Runs `grpc-pulse diagnose --json` in-process against real servers and hands back the exit code and
// the parsed report, plus a lookup of the docs' troubleshooting table the causes must match.

import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { expect } from 'vitest';
import { runDiagnose } from '../../src/diagnose/diagnose-command.js';
import type { Report, Step } from '../../src/diagnose/types.js';

export interface Diagnosed {
  code: number;
  report: Report;
  ms: number;
  step(name: string): Step;
}

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      text += String(chunk);
      callback();
    },
  });
  return { stream, text: () => text };
}

export async function diagnoseJson(args: string[]): Promise<Diagnosed> {
  const out = sink();
  const err = sink();
  const started = performance.now();
  const code = await runDiagnose([...args, '--json'], out.stream, err.stream);
  const ms = performance.now() - started;
  let report: Report;
  try {
    report = JSON.parse(out.text()) as Report;
  } catch {
    throw new Error(`diagnose printed no JSON (exit ${code}): ${out.text()} ${err.text()}`);
  }
  return {
    code,
    report,
    ms,
    step(name) {
      const found = report.steps.find((s) => s.name === name);
      if (!found) throw new Error(`no step "${name}" in ${JSON.stringify(report.steps.map((s) => s.name))}`);
      return found;
    },
  };
}

/** A failed step's cause is the docs' "likely cause" cell, its fix starts with "what to check". */
export function expectDocs(step: Step, reason: string): void {
  const row = docsRow(reason);
  expect(step.cause, `cause of ${step.name}`).toBe(row.cause);
  expect(step.fix?.startsWith(row.fix), `fix of ${step.name}: ${step.fix}`).toBe(true);
  expect(step.fix).toMatch(/\(runbook: docs\/runbooks\/Grpc[A-Za-z]+\.md\)$/);
}

/** The "likely cause" and "what to check" cells of docs/troubleshooting.md's row for `reason`. */
export function docsRow(reason: string): { cause: string; fix: string } {
  const doc = readFileSync('docs/troubleshooting.md', 'utf8');
  const line = doc.split('\n').find((l) => l.includes(`| \`${reason}\` |`));
  if (!line) throw new Error(`docs/troubleshooting.md has no row for ${reason}`);
  const cells = line.split('|').map((c) => c.trim());
  // | symptom | reason | likely cause | what to check |
  return { cause: cells[3] ?? '', fix: cells[4] ?? '' };
}
