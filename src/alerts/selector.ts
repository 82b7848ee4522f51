// The check of a `selector` option: it is pasted into every generated expression between `{` and `}`,
// so it must be a comma-separated list of PromQL label matchers and nothing else (a stray `}` or
// quote would write rules Prometheus refuses, or an expression that means something else).

/** A label name, an operator and a quoted string (PromQL's double, single or backtick quotes). */
const MATCHER =
  /^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(?:=~|!~|!=|=)\s*(?:"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`[^`]*`)\s*/;

/** Why `selector` is not a list of label matchers, or undefined when it is one ("" included). */
export function selectorProblem(selector: string): string | undefined {
  let rest = selector;
  if (rest.trim() === '') return undefined;
  for (let i = 0; ; i++) {
    const match = MATCHER.exec(rest);
    if (!match) {
      const at = selector.length - rest.length;
      return `expected label matchers such as namespace="shop", job=~"api-.*" (matcher ${i + 1}, at character ${at + 1})`;
    }
    rest = rest.slice(match[0].length);
    if (rest === '') return undefined;
    if (!rest.startsWith(',')) {
      const at = selector.length - rest.length;
      return `expected "," between label matchers (at character ${at + 1})`;
    }
    rest = rest.slice(1);
    if (rest.trim() === '') return undefined;
  }
}
