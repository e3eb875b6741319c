// Scrapes a server's /metrics over real HTTP and parses it with a Prometheus text-format parser,
// with look-ups by family name and labels for the assertions. The parser folds every labelled
// series of a histogram into one (its prom2json flattening keeps only the last), so histograms
// are read a second time as plain series: without their TYPE lines, `x_count`, `x_sum` and
// `x_bucket` parse as untyped families with their labels intact.

import parsePrometheusTextFormat, { type PrometheusFamily, type PrometheusSample } from 'parse-prometheus-text-format';

export interface Scrape {
  status: number;
  contentType: string | null;
  text: string;
  families: PrometheusFamily[];
  /** The family named `name` (throws when absent, naming what is there). */
  family(name: string): PrometheusFamily;
  /** Samples of `name` whose labels include every pair of `labels`. */
  samples(name: string, labels?: Record<string, string>): PrometheusSample[];
  /** The value of the one counter or gauge sample matching (0 when none does). */
  value(name: string, labels?: Record<string, string>): number;
  /** The observation count of the one histogram series matching (0 when none does). */
  count(name: string, labels?: Record<string, string>): number;
  /** The sum of observations of the one histogram series matching (0 when none does). */
  sum(name: string, labels?: Record<string, string>): number;
}

/** Histogram series as untyped samples by name (`x_count`, `x_sum`, `x_bucket`), labels intact. */
function histogramSeries(text: string, families: PrometheusFamily[]): Map<string, PrometheusSample[]> {
  const histograms = new Set(families.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name));
  const untyped = text
    .split('\n')
    .filter((line) => !/^# (TYPE|HELP) /.test(line) || !histograms.has(line.split(' ')[2]))
    .join('\n');
  const series = new Map<string, PrometheusSample[]>();
  for (const family of parsePrometheusTextFormat(untyped)) {
    if (family.type !== 'UNTYPED') continue;
    series.set(family.name, [...(series.get(family.name) ?? []), ...family.metrics]);
  }
  return series;
}

export async function scrapeMetrics(graphqlUrl: string, headers: Record<string, string>): Promise<Scrape> {
  const response = await fetch(new URL('/metrics', graphqlUrl), { headers });
  const text = await response.text();
  const families = response.status === 200 ? parsePrometheusTextFormat(text) : [];
  const histograms = response.status === 200 ? histogramSeries(text, families) : new Map<string, PrometheusSample[]>();
  const family = (name: string): PrometheusFamily => {
    const found = families.find((f) => f.name === name);
    if (found === undefined) throw new Error(`no metric family ${name}; have ${families.map((f) => f.name).join(', ')}`);
    return found;
  };
  const samples = (name: string, labels: Record<string, string> = {}): PrometheusSample[] => {
    const found = family(name);
    return matching(found.type === 'HISTOGRAM' ? (histograms.get(`${name}_count`) ?? []) : found.metrics, labels);
  };
  const matching = (found: PrometheusSample[], labels: Record<string, string>) =>
    found.filter((sample) => Object.entries(labels).every(([label, value]) => sample.labels?.[label] === value));
  const histogram = (name: string, suffix: 'count' | 'sum', labels: Record<string, string> = {}): number => {
    if (family(name).type !== 'HISTOGRAM') throw new Error(`${name} is not a histogram`);
    const found = matching(histograms.get(`${name}_${suffix}`) ?? [], labels);
    if (found.length > 1) throw new Error(`${found.length} series of ${name} match ${JSON.stringify(labels)}`);
    return Number(found[0]?.value ?? 0);
  };
  const one = (name: string, labels?: Record<string, string>): PrometheusSample | undefined => {
    const found = samples(name, labels);
    if (found.length > 1) throw new Error(`${found.length} samples of ${name} match ${JSON.stringify(labels)}`);
    return found[0];
  };
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    text,
    families,
    family,
    samples,
    value: (name, labels) => Number(one(name, labels)?.value ?? 0),
    count: (name, labels) => histogram(name, 'count', labels),
    sum: (name, labels) => histogram(name, 'sum', labels),
  };
}
