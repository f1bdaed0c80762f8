import { card } from '../../views/components';
import { html, type SafeHtml } from '../../views/html';
import { csrfField } from '../../views/layout';

export interface FieldProblem {
  field: string;
  message: string;
}

/** The form's field a problem belongs to: scoring names the rule file's fields `ruleSet.…`. */
function fieldOf(problem: FieldProblem): 'name' | 'ruleFile' | 'asOf' {
  if (problem.field === 'name' || problem.field === 'asOf') return problem.field;
  return 'ruleFile';
}

/**
 * Starting a backtest (admin key): a name, the rule file (a whole rule set or an overlay of the
 * rules in force, JSON) and optionally the instant to replay to. A plain multipart form.
 */
export function startForm(options: {
  csrfToken: string;
  values?: { name?: string; asOf?: string };
  problems?: FieldProblem[];
}): SafeHtml {
  const problems = options.problems ?? [];
  const of = (field: 'name' | 'ruleFile' | 'asOf') => problems.filter((p) => fieldOf(p) === field);
  const invalid = (field: 'name' | 'ruleFile' | 'asOf', hint?: string) => {
    const ids = [hint, of(field).length > 0 ? `${field}-error` : undefined].filter(Boolean).join(' ');
    return html`${of(field).length > 0 ? html` aria-invalid="true"` : ''}${ids ? html` aria-describedby="${ids}"` : ''}`;
  };
  const errors = (field: 'name' | 'ruleFile' | 'asOf') =>
    of(field).length > 0
      ? html`<p class="field-error" id="${field}-error" role="alert" data-field-error="${field}">${of(field)
          .map((p) => `${p.field}: ${p.message}`)
          .join('; ')}</p>`
      : '';
  return card({
    id: 'start-backtest',
    title: 'Start a backtest',
    subtitle: 'Replays the whole ledger under the rules in force and under your rule file, and compares them',
    body: html`<form class="form-stack" method="post" action="/backtests" enctype="multipart/form-data">
${csrfField(options.csrfToken)}
<div><label for="backtest-name">Name</label>
<input id="backtest-name" name="name" type="text" required maxlength="100" autocomplete="off" value="${options.values?.name ?? ''}"${invalid('name')}>
${errors('name')}</div>
<div><label for="backtest-rule-file">Rule file (JSON)</label>
<input id="backtest-rule-file" name="ruleFile" type="file" required accept="application/json,.json"${invalid('ruleFile', 'rule-file-hint')}>
<p class="hint muted" id="rule-file-hint">A whole rule set, or only what changes (e.g. <code>{"tiers":{"thresholds":{"PLATINUM":1200}}}</code>), merged over the rules in force.</p>
${errors('ruleFile')}</div>
<div><label for="backtest-as-of">Replay up to <span class="muted">(Shanghai time; empty: now)</span></label>
<input id="backtest-as-of" name="asOf" type="datetime-local" step="60" value="${options.values?.asOf ?? ''}"${invalid('asOf')}>
${errors('asOf')}</div>
<div><button type="submit" class="button" data-action="start-backtest">Start the backtest</button></div>
</form>`,
  });
}
