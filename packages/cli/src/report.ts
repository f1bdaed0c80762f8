/** Text output for the CLI's reports, and the bounded concurrency they read the APIs with. */
export function barChart(rows: readonly (readonly [string, number])[], total: number, width = 40): string {
  const max = Math.max(1, ...rows.map(([, n]) => n));
  const label = Math.max(...rows.map(([name]) => name.length));
  return rows
    .map(([name, n]) => {
      const bar = '█'.repeat(Math.round((n / max) * width)) || (n > 0 ? '▏' : '');
      const share = total > 0 ? ((n * 100) / total).toFixed(1) : '0.0';
      return `   ${name.padEnd(label)}  ${bar.padEnd(width)} ${String(n).padStart(6)}  ${share.padStart(5)}%`;
    })
    .join('\n');
}

export function table(rows: readonly (readonly [string, string])[]): string {
  const width = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `   ${k.padEnd(width)}  ${v}`).join('\n');
}

/** The q-quantile (nearest rank) of values, or 0 when there are none. */
export function percentile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Runs `fn` over items with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const index = next++;
        results[index] = await fn(items[index] as T);
      }
    }),
  );
  return results;
}
