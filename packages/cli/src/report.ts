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

/** Rows under a header, the first column left-aligned and the others right-aligned (numbers). */
export function columns(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const all = [header, ...rows];
  const widths = header.map((_, i) => Math.max(...all.map((row) => (row[i] ?? '').length)));
  return all
    .map(
      (row) =>
        `   ${row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')}`,
    )
    .join('\n')
    .replace(/ +$/gm, '');
}

/** `[██████░░░░]  45%  9,000 / 20,000 members` */
export function progressBar(done: number, total: number, unit: string, width = 30): string {
  const share = total > 0 ? Math.min(1, done / total) : 0;
  const filled = Math.round(share * width);
  const count = (n: number) => n.toLocaleString('en-US');
  return `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}%  ${count(done)} / ${count(total)} ${unit}`;
}

/** A number with its sign and thousands separators: `+1,204`, `-38`, `0`. */
export function signed(n: number, format: (n: number) => string = (v) => v.toLocaleString('en-US')): string {
  return n > 0 ? `+${format(n)}` : n < 0 ? `-${format(-n)}` : format(0);
}

/** Fen as CNY: `1,234.50`. */
export function yuan(fen: number): string {
  return (fen / 100).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
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
