// Reads a YAML config file and turns it into a frozen Config, or a ConfigError that names the file, the
// line and the path of every problem at once (SPEC "Config"; blackbox_exporter's config/config.go).

import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isMap, isPair, isScalar, isSeq, LineCounter, type Node, parseDocument } from 'yaml';
import type { z } from 'zod';
import { deepFreeze } from '../util/deep-freeze.js';
import { formatPath } from '../util/format-path.js';
import { checkProtoRpcs } from './rpc-check.js';
import { type Config, configSchema } from './schema.js';
import { checkYamlLimits, MAX_ALIAS_COUNT, MAX_CONFIG_BYTES } from './yaml-limits.js';

/** One thing wrong with a config file. */
export interface ConfigProblem {
  /** Dotted path inside the file, e.g. `targets[2].rpcs[0].method`; "" for the file as a whole. */
  path: string;
  /** 1-based line, where the problem has a place in the file. */
  line?: number;
  message: string;
}

/** Every problem found in one config file; `message` lists them one per line, ready for a terminal. */
export class ConfigError extends Error {
  readonly file: string;
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[]) {
    super(problems.map((p) => formatProblem(file, p)).join('\n'));
    this.name = 'ConfigError';
    this.file = file;
    this.problems = problems;
  }
}

export function formatProblem(file: string, problem: ConfigProblem): string {
  const where = problem.line === undefined ? file : `${file}:${problem.line}`;
  return problem.path === ''
    ? `${where}: ${problem.message}`
    : `${where}: ${problem.path}: ${problem.message}`;
}

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
}

/** Reads and validates a config file. Throws ConfigError, never anything else for bad input. */
export function loadConfigFile(file: string, options: LoadOptions = {}): Config {
  const text = readConfigText(file, 'config file');
  return parseConfigText(text, file, { baseDir: dirname(resolve(file)), env: options.env ?? process.env });
}

/** A YAML file's text, refusing a huge one before reading it whole (a 10 MB config ran the heap out). */
export function readConfigText(file: string, what: string): string {
  try {
    const size = statSync(file).size;
    if (size > MAX_CONFIG_BYTES) {
      throw new ConfigError(file, [
        { path: '', message: `${what} is ${size} bytes, larger than the limit of ${MAX_CONFIG_BYTES} bytes` },
      ]);
    }
    return readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'is a directory'
            : String(code ?? err);
    throw new ConfigError(file, [{ path: '', message: `cannot read ${what}: ${reason}` }]);
  }
}

/** A parsed YAML document: its plain value, and what maps a path back to a line. */
export interface YamlSource {
  file: string;
  raw: unknown;
  lineOf: (path: readonly PropertyKey[]) => number | undefined;
}

/** Parses YAML within the limits of yaml-limits.ts; syntax errors and alias bombs are ConfigErrors. */
export function parseYaml(text: string, file: string): YamlSource {
  const limit = checkYamlLimits(text);
  if (limit) throw new ConfigError(file, [{ path: '', ...limit }]);
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      file,
      doc.errors.map((e) => ({
        path: '',
        line: e.linePos?.[0].line ?? lineCounter.linePos(e.pos[0]).line,
        message: `YAML syntax error: ${firstLine(e.message)}`,
      })),
    );
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    // yaml throws a ReferenceError when aliases expand past maxAliasCount (a "billion laughs" file).
    const message =
      err instanceof ReferenceError
        ? `YAML aliases expand to more than ${MAX_ALIAS_COUNT} copies (an alias bomb?); write the values out`
        : `YAML cannot be read: ${firstLine(String((err as Error).message ?? err))}`;
    throw new ConfigError(file, [{ path: '', message }]);
  }
  return { file, raw, lineOf: (path) => lineOf(doc.contents, path, lineCounter) };
}

/** Validates `source` against a zod schema; every issue becomes a positioned problem. */
export function parseWithSchema<S extends z.ZodType>(source: YamlSource, schema: S): z.output<S> {
  const result = schema.safeParse(source.raw, { reportInput: true });
  if (result.success) return result.data;
  const problems = result.error.issues.flatMap(splitIssue).map(({ path, message }) => ({
    path: formatPath(path),
    line: source.lineOf(path),
    message,
  }));
  problems.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  throw new ConfigError(source.file, problems);
}

/** Validates config text; `file` is only used in messages. Relative paths resolve from `baseDir`. */
export function parseConfigText(
  text: string,
  file: string,
  context: { baseDir: string; env: NodeJS.ProcessEnv },
): Config {
  const source = parseYaml(text, file);
  const config = parseWithSchema(source, configSchema(context));
  const rpcProblems = checkProtoRpcs(config);
  if (rpcProblems.length > 0) {
    throw new ConfigError(
      file,
      rpcProblems.map(({ path, message }) => ({
        path: formatPath(path),
        line: source.lineOf(path),
        message,
      })),
    );
  }
  return deepFreeze(config);
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

function lineOf(root: unknown, path: readonly PropertyKey[], lineCounter: LineCounter): number | undefined {
  const node = nodeAt(root, path);
  return node?.range ? lineCounter.linePos(node.range[0]).line : undefined;
}

/**
 * The deepest YAML node on `path` that exists (a missing key points at its parent). A path that ends
 * at a map key points at the key, where a reader looks first, even when the value is a block below it.
 */
function nodeAt(root: unknown, path: readonly PropertyKey[]): Node | undefined {
  let node = root as Node | null | undefined;
  for (const [i, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && p.key.value === key);
      if (!pair) return node;
      node = i === path.length - 1 ? (pair.key as Node) : ((pair.value as Node | null) ?? (pair.key as Node));
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key] as Node | undefined;
      if (!item) return node;
      node = item;
    } else {
      return node ?? undefined;
    }
  }
  return node ?? undefined;
}

/** Unknown keys and bad record keys are reported at the key itself, one problem per key. */
function splitIssue(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string }[] {
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => ({ path: [...issue.path, key], message: `unknown key "${key}"` }));
  }
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0];
    return [{ path: [...issue.path], message: inner ? describeIssue(inner) : 'invalid key' }];
  }
  return [{ path: [...issue.path], message: describeIssue(issue) }];
}

/** One line per issue in the config's own words (YAML types, not JavaScript's). */
function describeIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      // zod's own wording names JavaScript types; a schema's own message (a duration's) is kept.
      return issue.message.startsWith('Invalid input')
        ? `expected ${issue.expected}, got ${yamlType(issue.input)}`
        : issue.message;
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'expected a string, { from_env: NAME } or { from_file: PATH }';
    case 'too_small':
      return issue.origin === 'array' ? 'must not be empty' : issue.message;
    default:
      return issue.message;
  }
}

function yamlType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'map';
  return typeof value;
}
