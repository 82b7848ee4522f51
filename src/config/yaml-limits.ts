// Bounds on config text checked before the YAML parser sees it: a file-size limit and a nesting
// limit. The parser recurses per nesting level and, thousands of levels deep, runs the process out
// of stack or memory (an uncatchable crash), so depth is measured lexically first, in one pass.

/** The largest config file read (a 5,000-target config is well under 1 MiB). */
export const MAX_CONFIG_BYTES = 2 * 1024 * 1024;
/** Deeper than any real config (about 8 levels); far below where the parser gets into trouble. */
export const MAX_NESTING = 64;
/** Aliases expanded while building values (yaml's maxAliasCount): an alias bomb stops here. */
export const MAX_ALIAS_COUNT = 100;

export interface TextProblem {
  line?: number;
  message: string;
}

/**
 * The first limit the text breaks, or undefined. Depth counts open flow brackets plus, per line,
 * the columns of indentation and compact `- ` / `? ` indicators: an upper bound of block nesting.
 */
export function checkYamlLimits(text: string): TextProblem | undefined {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_CONFIG_BYTES) {
    return { message: `config is ${bytes} bytes, larger than the limit of ${MAX_CONFIG_BYTES} bytes` };
  }
  let flow = 0;
  let line = 1;
  let lineStart = true;
  let indent = 0;
  let quote: '"' | "'" | undefined;
  let comment = false;
  const tooDeep = () => ({ line, message: `nesting deeper than ${MAX_NESTING} levels` });
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n') {
      line += 1;
      lineStart = true;
      indent = 0;
      comment = false;
      continue;
    }
    if (comment) continue;
    if (quote) {
      if (c === '\\' && quote === '"') i += 1;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (lineStart) {
      if (c === ' ' || c === '\t') {
        indent += 1;
      } else if ((c === '-' || c === '?') && (text[i + 1] === ' ' || text[i + 1] === '\t')) {
        indent += 2;
        i += 1;
      } else {
        lineStart = false;
      }
      if (indent + flow > MAX_NESTING * 2) return tooDeep();
      if (lineStart) continue;
    }
    if (c === '#' && (i === 0 || text[i - 1] === ' ' || text[i - 1] === '\t')) comment = true;
    // A quote opens a scalar only where a token starts: the apostrophe in "don't" opens nothing.
    else if ((c === '"' || c === "'") && (i === 0 || ' \t[{,:'.includes(text[i - 1] ?? ''))) quote = c;
    else if (c === '[' || c === '{') {
      flow += 1;
      if (flow > MAX_NESTING) return tooDeep();
    } else if ((c === ']' || c === '}') && flow > 0) flow -= 1;
  }
  return undefined;
}
