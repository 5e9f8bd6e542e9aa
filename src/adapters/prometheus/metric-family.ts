/**
 * Metrics as prom-client's `Registry` reads them: at scrape time it asks each registered metric
 * for `get()`, a snapshot of `{ name, help, type, values, aggregator }`, and formats it. These
 * families keep their numbers in plain cells that the telemetry listener bumps (an increment
 * and a Map lookup per event, where prom-client's own `inc()`/`observe()` hash and validate the
 * label set on every call), and build the snapshot only when scraped.
 */

/** The label values of one series, as prom-client formats them. */
export type LabelSet = Readonly<Record<string, string | number>>;

/** One line of a scrape: a value with its labels (and, for a histogram's parts, its name). */
export interface SampleValue {
  readonly value: number;
  readonly labels: LabelSet;
  readonly metricName?: string;
}

/** What prom-client's `Registry` reads from a metric when it scrapes or merges registries. */
export interface MetricSnapshot {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly values: SampleValue[];
  /** How prom-client's `AggregatorRegistry` combines a cluster's workers. */
  readonly aggregator: 'sum' | 'max' | 'min';
}

/** A metric that prom-client's `Registry` can hold beside its own. */
export interface ScrapedMetric {
  /** Writable: prom-client renames counters for the OpenMetrics format. */
  name: string;
  readonly help: string;
  readonly type: MetricSnapshot['type'];
  readonly aggregator: MetricSnapshot['aggregator'];
  get(): Promise<MetricSnapshot>;
  /** `registry.resetMetrics()`: counters and histograms start again from zero. */
  reset(): void;
}

/** A series' labels: `names[i]` = `values[i]` where the value is not empty, then the constant ones. */
function labelSet(names: readonly string[], values: readonly string[], constant: LabelSet) {
  const labels: Record<string, string | number> = {};
  names.forEach((name, i) => {
    const value = values[i];
    if (value !== undefined && value !== '') labels[name] = value;
  });
  return Object.freeze({ ...labels, ...constant });
}

/**
 * Series found by the policy's name, then by the rest of their label values joined into one
 * string: two Map lookups and no allocation when the caller passes a constant string.
 */
class SeriesTable<S> {
  readonly #byPolicy = new Map<string, Map<string, S>>();
  readonly #make: (labels: LabelSet) => S;
  readonly #names: readonly string[];
  readonly #constant: LabelSet;

  constructor(names: readonly string[], constant: LabelSet, make: (labels: LabelSet) => S) {
    this.#names = names;
    this.#constant = constant;
    this.#make = make;
  }

  /** The series for `policy` and `rest` (the other label values, joined by `\u0000`). */
  get(policy: string, rest: string): S {
    let table = this.#byPolicy.get(policy);
    if (table === undefined) {
      table = new Map();
      this.#byPolicy.set(policy, table);
    }
    let series = table.get(rest);
    if (series === undefined) {
      const values = rest === '' ? [policy] : [policy, ...rest.split('\u0000')];
      series = this.#make(labelSet(this.#names, values, this.#constant));
      table.set(rest, series);
    }
    return series;
  }

  *all(): Iterable<S> {
    for (const table of this.#byPolicy.values()) yield* table.values();
  }
}

/** Joins label values for {@link SeriesTable.get}; for the rarer events with two labels. */
export function join(a: string, b: string): string {
  return `${a}\u0000${b}`;
}

interface FamilyInfo {
  /** The full name, prefix included. */
  readonly name: string;
  readonly help: string;
  /** Label names in order, `policy` first. */
  readonly labelNames: readonly string[];
  /** Labels every series carries (service, operation). */
  readonly constant: LabelSet;
}

/** A cell a counter's listener increments. */
export interface CounterCell {
  value: number;
  readonly labels: LabelSet;
}

export class CounterFamily implements ScrapedMetric {
  name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  readonly #series: SeriesTable<CounterCell>;

  constructor(info: FamilyInfo) {
    this.name = info.name;
    this.help = info.help;
    this.#series = new SeriesTable(info.labelNames, info.constant, (labels) => ({
      value: 0,
      labels,
    }));
  }

  cell(policy: string, rest = ''): CounterCell {
    return this.#series.get(policy, rest);
  }

  async get(): Promise<MetricSnapshot> {
    const values: SampleValue[] = [];
    for (const { value, labels } of this.#series.all()) values.push({ value, labels });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {
    for (const cell of this.#series.all()) cell.value = 0;
  }
}

/** A histogram's series: per-bucket counts (not cumulative; the scrape adds them up). */
export interface HistogramCell {
  readonly counts: Float64Array;
  sum: number;
  count: number;
  readonly labels: LabelSet;
}

export class HistogramFamily implements ScrapedMetric {
  name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly #bounds: readonly number[];
  readonly #series: SeriesTable<HistogramCell>;

  /** `bounds`: the buckets' upper bounds, strictly increasing, without +Inf. */
  constructor(info: FamilyInfo, bounds: readonly number[]) {
    this.name = info.name;
    this.help = info.help;
    this.#bounds = bounds;
    this.#series = new SeriesTable(info.labelNames, info.constant, (labels) => ({
      counts: new Float64Array(bounds.length),
      sum: 0,
      count: 0,
      labels,
    }));
  }

  cell(policy: string, rest = ''): HistogramCell {
    return this.#series.get(policy, rest);
  }

  /** Records one observation in `cell`. */
  observe(cell: HistogramCell, value: number): void {
    const bounds = this.#bounds;
    let at = 0;
    while (at < bounds.length && value > bounds[at]!) at++;
    if (at < bounds.length) cell.counts[at]!++;
    cell.sum += value;
    cell.count++;
  }

  async get(): Promise<MetricSnapshot> {
    const values: SampleValue[] = [];
    const bucket = `${this.name}_bucket`;
    for (const cell of this.#series.all()) {
      let cumulative = 0;
      this.#bounds.forEach((le, i) => {
        cumulative += cell.counts[i]!;
        values.push({ value: cumulative, labels: { ...cell.labels, le }, metricName: bucket });
      });
      values.push({
        value: cell.count,
        labels: { ...cell.labels, le: '+Inf' },
        metricName: bucket,
      });
      values.push({ value: cell.sum, labels: cell.labels, metricName: `${this.name}_sum` });
      values.push({ value: cell.count, labels: cell.labels, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }

  reset(): void {
    for (const cell of this.#series.all()) {
      cell.counts.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}

function combine(aggregator: MetricSnapshot['aggregator'], a: number, b: number): number {
  if (aggregator === 'max') return Math.max(a, b);
  if (aggregator === 'min') return Math.min(a, b);
  return a + b;
}

/** One gauge reading: the label values after `policy`, and the value. */
export interface GaugeReading {
  readonly policy: string;
  /** The other label values, in the order of the family's label names after `policy`. */
  readonly labels?: readonly string[];
  readonly value: number;
}

/**
 * A gauge read at scrape time from `read()`: nothing is kept between scrapes. Readings with the
 * same labels (two policies sharing a name) are combined by the family's aggregator, so every
 * series appears once.
 */
export class GaugeFamily implements ScrapedMetric {
  name: string;
  readonly help: string;
  readonly type = 'gauge';
  readonly aggregator: MetricSnapshot['aggregator'];
  readonly #info: FamilyInfo;
  readonly #read: () => Iterable<GaugeReading>;

  constructor(
    info: FamilyInfo,
    aggregator: MetricSnapshot['aggregator'],
    read: () => Iterable<GaugeReading>,
  ) {
    this.name = info.name;
    this.help = info.help;
    this.aggregator = aggregator;
    this.#info = info;
    this.#read = read;
  }

  async get(): Promise<MetricSnapshot> {
    const series = new Map<string, { value: number; labels: LabelSet }>();
    const { labelNames, constant } = this.#info;
    for (const reading of this.#read()) {
      const values = [reading.policy, ...(reading.labels ?? [])];
      const id = values.join('\u0000');
      const seen = series.get(id);
      if (seen === undefined) {
        series.set(id, { value: reading.value, labels: labelSet(labelNames, values, constant) });
      } else {
        seen.value = combine(this.aggregator, seen.value, reading.value);
      }
    }
    const { name, help, type, aggregator } = this;
    return { name, help, type, values: [...series.values()], aggregator };
  }

  /** Nothing to reset: a gauge reads live state. */
  reset(): void {}
}
