// Collects what the benches measured: result sections (tables) and goals (this run's figure, the floor's
// and blackbox's side by side, met or missed with the cause measured in the same run). Writes
// bench/RESULTS.md; the longer explanations of misses are prose in bench/CAUSES.md, not in code.

import { writeFileSync } from 'node:fs';

export interface Goal {
  /** What is measured, e.g. "RSS, 1,000 targets". */
  what: string;
  /** The goal as the issue states it, e.g. "≤ 150 MiB". */
  target: string;
  pulse: string;
  floor?: string;
  blackbox?: string;
  met: boolean;
  /** For a miss: what this run measured that explains it (computed, never a constant). */
  cause?: string;
  /** Heading in bench/CAUSES.md with the longer explanation. */
  causes?: string;
}

const cell = (text: string | undefined) => (text ?? '–').replace(/\|/g, '\\|');

export class Report {
  readonly #sections: string[] = [];
  readonly #goals: Goal[] = [];

  section(title: string, lines: string[]): void {
    this.#sections.push(`## ${title}\n\n${lines.join('\n')}\n`);
    process.stdout.write(`\n## ${title}\n${lines.join('\n')}\n`);
  }

  goal(goal: Goal): void {
    this.#goals.push(goal);
    const side = [goal.floor && `floor ${goal.floor}`, goal.blackbox && `blackbox ${goal.blackbox}`]
      .filter(Boolean)
      .join(', ');
    process.stdout.write(
      `GOAL ${goal.what} (${goal.target}): ${goal.pulse}${side ? ` [${side}]` : ''} → ${goal.met ? 'met' : `MISSED${goal.cause ? ` (${goal.cause})` : ''}`}\n`,
    );
  }

  goalsTable(): string {
    const anchor = (g: Goal) =>
      g.causes
        ? ` [more](CAUSES.md#${g.causes
            .toLowerCase()
            .replace(/[^a-z0-9 -]/g, '')
            .replace(/ /g, '-')})`
        : '';
    return [
      '## Goals',
      '',
      '| goal | target | grpc-pulse | floor (bare grpc-js + node:http) | blackbox_exporter | | measured cause |',
      '|---|---|---|---|---|---|---|',
      ...this.#goals.map(
        (g) =>
          `| ${cell(g.what)} | ${cell(g.target)} | ${cell(g.pulse)} | ${cell(g.floor)} | ${cell(g.blackbox)} | ${g.met ? 'met' : '**missed**'} | ${g.met ? '' : `${cell(g.cause)}${anchor(g)}`} |`,
      ),
      '',
    ].join('\n');
  }

  write(file: string, header: string[]): void {
    writeFileSync(file, `${header.join('\n')}\n\n${this.goalsTable()}\n${this.#sections.join('\n')}`);
  }
}
