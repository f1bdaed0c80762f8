import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from './processes';

const KEYWORDS = new Set(['and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan']);

/**
 * The metric names a PromQL expression selects: what is left once strings, label matchers, ranges,
 * label lists (`by (…)`, `on (…)`) and function names are taken out. Enough for the expressions
 * of our dashboards and rules; not a PromQL parser.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.:])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const next = stripped.slice((match.index ?? 0) + name.length).trimStart();
    if (next.startsWith('(') || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Every PromQL expression of the Grafana dashboards (infra/grafana/dashboards) and alert rules (infra/prometheus). */
export function observabilityQueries(): { where: string; expr: string }[] {
  const queries: { where: string; expr: string }[] = [];
  const dashboard = JSON.parse(
    readFileSync(join(REPO_ROOT, 'infra/grafana/dashboards/taobi.json'), 'utf8'),
  ) as {
    panels: { title: string; targets?: { expr: string }[] }[];
  };
  for (const panel of dashboard.panels)
    for (const target of panel.targets ?? [])
      queries.push({ where: `panel "${panel.title}"`, expr: target.expr });
  const rules = parse(readFileSync(join(REPO_ROOT, 'infra/prometheus/alerts.yml'), 'utf8')) as {
    groups: { rules: { alert: string; expr: string }[] }[];
  };
  for (const group of rules.groups)
    for (const rule of group.rules) queries.push({ where: `alert ${rule.alert}`, expr: rule.expr });
  return queries;
}
