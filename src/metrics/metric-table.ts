// A compact store and renderer for grpc-pulse's per-target series (Prometheus text format 0.0.4).
// prom-client keeps an object per series and formats every label at every scrape: at 1,000 targets
// (about 100,000 series) that cost 220 ms per scrape and ~150 MB (bench/RESULTS.md). Here each series
// renders its `name{labels}` prefix once, when it is created, and a scrape only appends numbers.
// prom-client still serves the process_* and nodejs_* metrics.

type Labels = Readonly<Record<string, string>>;

/** About 150 kB of text, rendered in well under a millisecond here (bench/RESULTS.md "Scrape cost"). */
const SERIES_PER_CHUNK = 2000;

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (value: string) => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/**
 * A copy of `text` as one flat string. A template literal leaves V8 "cons strings" (a tree of the
 * parts), which a long-lived prefix would keep forever: measured at 1,000 targets, 490,000 cons
 * nodes and 16 MB of heap.
 */
function flat(...parts: string[]): string {
  // Array.prototype.join allocates one sequential string of the total length.
  return parts.join('');
}

function renderLabels(labelNames: readonly string[], labels: Labels, extra = ''): string {
  const parts = labelNames.map((name) => `${name}="${escapeLabel(labels[name] ?? '')}"`);
  if (extra !== '') parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/**
 * The keys of each target's cells: removing a target (or a probe of it) touches that target's series
 * only. A scan of every cell per removed target made a reload from 5,000 targets to 1 block for 22 s.
 */
class TargetIndex {
  readonly #keys = new Map<string, Set<string>>();

  add(target: string, key: string): void {
    let keys = this.#keys.get(target);
    if (!keys) {
      keys = new Set();
      this.#keys.set(target, keys);
    }
    keys.add(key);
  }

  delete(target: string, key: string): void {
    const keys = this.#keys.get(target);
    keys?.delete(key);
    if (keys?.size === 0) this.#keys.delete(target);
  }

  /** The keys of `target`, forgotten here. */
  take(target: string): Iterable<string> {
    const keys = this.#keys.get(target);
    this.#keys.delete(target);
    return keys ?? [];
  }

  /** The keys that may match `labels`: the target's own when it names one. */
  candidates(labels: Labels, all: Map<string, unknown>): string[] {
    return labels.target === undefined ? [...all.keys()] : [...(this.#keys.get(labels.target) ?? [])];
  }
}

/** Deletes the cells whose key (label values joined by NUL, in labelNames order) matches `labels`. */
function removeMatching(
  cells: Map<string, { target: string }>,
  index: TargetIndex,
  labelNames: readonly string[],
  labels: Labels,
): void {
  const wanted = labelNames.flatMap((name, i) => (name in labels ? [[i, labels[name]] as const] : []));
  if (wanted.length !== Object.keys(labels).length) return; // a label this family does not have
  for (const key of index.candidates(labels, cells)) {
    const values = key.split('\u0000');
    if (!wanted.every(([i, value]) => values[i] === value)) continue;
    const cell = cells.get(key);
    cells.delete(key);
    if (cell) index.delete(cell.target, key);
  }
}

interface Cell {
  /** The `target` label, by which a target's series are removed (no copy of every label is kept). */
  target: string;
  prefix: string;
  value: number;
}

/** A counter or gauge family: one value per label set. */
export class ScalarFamily {
  readonly #cells = new Map<string, Cell>();
  readonly #index = new TargetIndex();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    readonly labelNames: readonly string[],
  ) {}

  #key(labels: Labels): string {
    return this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
  }

  /** The cell of a label set, created at 0; hold on to it to update without hashing labels again. */
  cell(labels: Labels): Cell {
    const key = this.#key(labels);
    let cell = this.#cells.get(key);
    if (!cell) {
      cell = {
        target: labels.target ?? '',
        prefix: flat(this.name, renderLabels(this.labelNames, labels), ' '),
        value: 0,
      };
      this.#cells.set(key, cell);
      this.#index.add(cell.target, key);
    }
    return cell;
  }

  set(labels: Labels, value: number): void {
    this.cell(labels).value = value;
  }

  inc(labels: Labels, by = 1): void {
    this.cell(labels).value += by;
  }

  remove(labels: Labels): void {
    const key = this.#key(labels);
    const cell = this.#cells.get(key);
    this.#cells.delete(key);
    if (cell) this.#index.delete(cell.target, key);
  }

  /** Removes every series of a target that left the config (its own series only are touched). */
  removeTarget(target: string): void {
    for (const key of this.#index.take(target)) this.#cells.delete(key);
  }

  /** Removes every series whose labels include all of `labels` (a probe that went away). */
  removeMatching(labels: Labels): void {
    removeMatching(this.#cells, this.#index, this.labelNames, labels);
  }

  /** The family's text in pieces of at most `perChunk` series (the first piece has the header). */
  *chunks(perChunk: number): Generator<string> {
    if (this.#cells.size === 0) return;
    // Built by appending (V8 ropes): cheaper than an array entry per series.
    let text = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    let series = 0;
    for (const cell of this.#cells.values()) {
      text += `${cell.prefix}${formatValue(cell.value)}\n`;
      if (++series === perChunk) {
        yield text;
        text = '';
        series = 0;
      }
    }
    if (text !== '') yield text;
  }
}

interface HistogramCell {
  target: string;
  bucketPrefixes: string[];
  sumPrefix: string;
  countPrefix: string;
  /** Observations per bucket (not cumulative); the last one is +Inf. */
  counts: Float64Array;
  sum: number;
  count: number;
}

/** A histogram family with fixed buckets. */
export class HistogramFamily {
  readonly #cells = new Map<string, HistogramCell>();
  readonly #index = new TargetIndex();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  #key(labels: Labels): string {
    return this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
  }

  cell(labels: Labels): HistogramCell {
    const key = this.#key(labels);
    let cell = this.#cells.get(key);
    if (!cell) {
      const les = [...this.buckets.map(formatValue), '+Inf'];
      cell = {
        target: labels.target ?? '',
        // flat(): these live as long as the target; a template literal would keep a tree of its parts.
        bucketPrefixes: les.map((le) =>
          flat(this.name, '_bucket', renderLabels(this.labelNames, labels, `le="${le}"`), ' '),
        ),
        sumPrefix: flat(this.name, '_sum', renderLabels(this.labelNames, labels), ' '),
        countPrefix: flat(this.name, '_count', renderLabels(this.labelNames, labels), ' '),
        counts: new Float64Array(les.length),
        sum: 0,
        count: 0,
      };
      this.#cells.set(key, cell);
      this.#index.add(cell.target, key);
    }
    return cell;
  }

  observe(cell: HistogramCell, value: number): void {
    let i = 0;
    while (i < this.buckets.length && value > (this.buckets[i] as number)) i++;
    cell.counts[i] = (cell.counts[i] ?? 0) + 1;
    cell.sum += value;
    cell.count += 1;
  }

  removeTarget(target: string): void {
    for (const key of this.#index.take(target)) this.#cells.delete(key);
  }

  /** Removes every series whose labels include all of `labels`. */
  removeMatching(labels: Labels): void {
    removeMatching(this.#cells, this.#index, this.labelNames, labels);
  }

  /** The family's text in pieces of about `perChunk` series; one histogram is never split. */
  *chunks(perChunk: number): Generator<string> {
    if (this.#cells.size === 0) return;
    let text = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} histogram\n`;
    let series = 0;
    for (const cell of this.#cells.values()) {
      let cumulative = 0;
      for (let i = 0; i < cell.bucketPrefixes.length; i++) {
        cumulative += cell.counts[i] ?? 0;
        text += `${cell.bucketPrefixes[i]}${cumulative}\n`;
      }
      text += `${cell.sumPrefix}${formatValue(cell.sum)}\n${cell.countPrefix}${cell.count}\n`;
      series += cell.bucketPrefixes.length + 2;
      if (series >= perChunk) {
        yield text;
        text = '';
        series = 0;
      }
    }
    if (text !== '') yield text;
  }
}

/** The families of one exposition, rendered in registration order. */
export class MetricTable {
  readonly #families: (ScalarFamily | HistogramFamily)[] = [];
  readonly #beforeRender: (() => void)[] = [];

  counter(name: string, help: string, labelNames: readonly string[]): ScalarFamily {
    return this.#add(new ScalarFamily(name, help, 'counter', labelNames));
  }

  gauge(name: string, help: string, labelNames: readonly string[]): ScalarFamily {
    return this.#add(new ScalarFamily(name, help, 'gauge', labelNames));
  }

  histogram(
    name: string,
    help: string,
    labelNames: readonly string[],
    buckets: readonly number[],
  ): HistogramFamily {
    return this.#add(new HistogramFamily(name, help, labelNames, buckets));
  }

  /** Runs before each render, for values read at scrape time (a Watch that is SERVING "now"). */
  onRender(fn: () => void): void {
    this.#beforeRender.push(fn);
  }

  render(): string {
    return [...this.chunks()].join('');
  }

  /**
   * The exposition in pieces of about `perChunk` series, for a server that yields to the event loop
   * between them (a 1,000-target scrape is ~100,000 series: one synchronous render stalls every probe).
   * Series added or removed while a scrape is under way are simply in it or not (Map iteration).
   */
  *chunks(perChunk = SERIES_PER_CHUNK): Generator<string> {
    for (const fn of this.#beforeRender) fn();
    for (const family of this.#families) yield* family.chunks(perChunk);
  }

  /** Registers a family; a second family of the same name would render an invalid exposition. */
  #add<T extends ScalarFamily | HistogramFamily>(family: T): T {
    if (this.#families.some((f) => f.name === family.name)) {
      throw new Error(`metric family ${family.name} is registered twice`);
    }
    this.#families.push(family);
    return family;
  }
}
