/** One sample of the Prometheus text exposition format: `name{label="value",…} 12.5`. */
export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
}

function parseValue(text: string): number {
  if (text === '+Inf') return Number.POSITIVE_INFINITY;
  if (text === '-Inf') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

export interface Exposition {
  series: Series[];
  /** Every metric declared (`# TYPE`), with or without series: a labelled counter has none until it moves. */
  declared: Set<string>;
}

const TYPE = /^#\s*TYPE\s+([a-zA-Z_:][a-zA-Z0-9_:]*)\s/;

/**
 * Parses what a service's `/metrics` answers (prom-client's text format). Other comments and lines
 * that do not parse are skipped: a panel shows what it can read.
 */
export function parsePrometheus(text: string): Exposition {
  const series: Series[] = [];
  const declared = new Set<string>();
  for (const line of text.split('\n')) {
    const type = TYPE.exec(line);
    if (type) declared.add(type[1] as string);
    if (line === '' || line.startsWith('#')) continue;
    const match = LINE.exec(line.trim());
    if (!match) continue;
    const [, name, labelText, valueText] = match as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    for (const [, key, value] of (labelText ?? '').matchAll(LABEL)) {
      labels[key as string] = unescapeLabel(value as string);
    }
    series.push({ name, labels, value: parseValue(valueText) });
  }
  return { series, declared };
}

/**
 * The sum of a metric's series whose labels include `where`: 0 when the metric is declared but no
 * such series moved yet, undefined when the service does not have the metric at all.
 */
export function sumOf(
  exposition: Exposition,
  name: string,
  where: Record<string, string> = {},
): number | undefined {
  let total = exposition.declared.has(name) ? 0 : undefined;
  for (const s of exposition.series) {
    if (s.name !== name) continue;
    if (!Object.entries(where).every(([key, value]) => s.labels[key] === value)) continue;
    total = (total ?? 0) + s.value;
  }
  return total;
}
