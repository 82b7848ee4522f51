// The two faces of a diagnose report: SPEC's JSON object (exactly its fields, nothing internal) and a
// table for a terminal, with a summary line naming the first failing layer; and the exit code.

import type { Findings, Report, Step, StepResult } from './types.js';

/** SPEC "CLI": 0 all ok, 2 failed before an HTTP/2 connection existed, 3 an RPC failed, 4 not SERVING. */
export const DIAGNOSE_EXIT = { ok: 0, badArguments: 1, connection: 2, rpc: 3, notServing: 4 } as const;

export function exitCode(steps: StepResult[]): number {
  const first = steps.find((s) => s.status === 'fail' && s.layer !== undefined);
  switch (first?.layer) {
    case undefined:
      return DIAGNOSE_EXIT.ok;
    case 'connection':
      return DIAGNOSE_EXIT.connection;
    case 'rpc':
      return DIAGNOSE_EXIT.rpc;
    case 'not_serving':
      return DIAGNOSE_EXIT.notServing;
  }
}

/** The public form of a step: SPEC's fields only, in SPEC's order. */
function publicStep(s: StepResult): Step {
  return {
    name: s.name,
    status: s.status,
    ms: s.ms,
    detail: s.detail,
    ...(s.cause !== undefined ? { cause: s.cause } : {}),
    ...(s.fix !== undefined ? { fix: s.fix } : {}),
  };
}

export function toReport(address: string, steps: StepResult[], findings: Findings): Report {
  return { address, steps: steps.map(publicStep), findings };
}

export function renderJson(report: Report): string {
  return `${JSON.stringify(report, null, 2)}\n`;
}

function findingsLine(f: Findings): string | undefined {
  const parts: string[] = [];
  if (f.idle_cutoff_by !== undefined) {
    parts.push(
      f.idle_cutoff_seconds !== undefined
        ? `idle cutoff ${f.idle_cutoff_seconds} s (${f.idle_cutoff_by})`
        : `idle cutoff: ${f.idle_cutoff_by}`,
    );
  }
  if (f.ping_policy_min_seconds !== undefined)
    parts.push(`server rejects pings every ${f.ping_policy_min_seconds} s`);
  if (f.max_connection_age_seconds !== undefined)
    parts.push(`max connection age ${f.max_connection_age_seconds} s`);
  if (f.services !== undefined) parts.push(`${f.services.length} services`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

/** The keepalive.time window the findings measure, if they bound it on either side. */
function keepaliveWindow(f: Findings): string | undefined {
  const below =
    f.idle_cutoff_by === 'intermediary_close' || f.idle_cutoff_by === 'intermediary_reset'
      ? f.idle_cutoff_seconds
      : undefined;
  const above = f.ping_policy_min_seconds;
  if (below === undefined && above === undefined) return undefined;
  if (below !== undefined && above !== undefined && above >= below) {
    return `no keepalive.time fits: the server rejects pings every ${above} s but the path drops idle connections after ${below} s; relax the server's ping policy or the intermediary's idle timeout`;
  }
  const parts = [
    above !== undefined
      ? `more than ${above} s (the server answered pings that often with too_many_pings)`
      : '',
    below !== undefined ? `less than ${below} s (the path drops idle connections then)` : '',
  ];
  return `keepalive.time ${parts.filter((s) => s !== '').join(' and ')}`;
}

/** Longest detail the table prints of one step; `--json` carries all of it. */
export const TABLE_DETAIL_MAX = 400;

/**
 * Control characters (C0, DEL, C1) and the bidirectional overrides, which a remote server can put into
 * a status message or a service name: printed raw they would move the cursor, recolour or rewrite the
 * terminal, or reorder the line. Each one is shown as its \u escape instead.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are exactly the characters it escapes.
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** Text from a remote server made safe for one line of a terminal, at most `max` characters. */
export function terminalText(text: string, max = TABLE_DETAIL_MAX): string {
  const safe = text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  const chars = [...safe];
  if (chars.length <= max) return safe;
  return `${chars.slice(0, max).join('')}… (${chars.length - max} more characters: --json has all)`;
}

export function renderTable(report: Report, code: number): string {
  const rows = report.steps;
  const nameWidth = Math.max(4, ...rows.map((s) => s.name.length));
  const lines = [`grpc-pulse diagnose ${terminalText(report.address)}`, ''];
  lines.push(`  ${'STEP'.padEnd(nameWidth)}  STATUS   ${'TIME'.padStart(9)}  DETAIL`);
  const indent = ' '.repeat(nameWidth + 2 + 9 + 11 + 2);
  for (const s of rows) {
    const time = s.status === 'skipped' ? '-' : `${s.ms.toFixed(1)} ms`;
    lines.push(
      `  ${s.name.padEnd(nameWidth)}  ${s.status.padEnd(7)}  ${time.padStart(9)}  ${terminalText(s.detail)}`,
    );
    if (s.cause) lines.push(`${indent}cause: ${terminalText(s.cause)}`);
    if (s.fix) lines.push(`${indent}fix:   ${terminalText(s.fix)}`);
  }
  lines.push('');
  const found = findingsLine(report.findings);
  if (found) lines.push(`findings: ${found}`);
  const window = keepaliveWindow(report.findings);
  if (window) lines.push(`keepalive: ${window}`);
  const firstFail = rows.find((s) => s.status === 'fail');
  const warnings = rows.filter((s) => s.status === 'warn').length;
  lines.push(
    firstFail
      ? `summary: FAIL at ${firstFail.name}: ${terminalText(firstFail.detail, TABLE_DETAIL_MAX / 2)} (exit ${code})`
      : `summary: ok${warnings > 0 ? ` with ${warnings} warning${warnings > 1 ? 's' : ''}` : ''} (exit ${code})`,
  );
  return `${lines.join('\n')}\n`;
}
