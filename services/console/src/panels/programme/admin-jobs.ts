import type { Operator } from '../../auth/session';
import { card } from '../../views/components';
import { html, type SafeHtml } from '../../views/html';
import { csrfField } from '../../views/layout';

/**
 * The operator jobs (admin key only): the monthly evaluation on scoring then tier, and the periodic
 * grants on entitlement. A read-only operator sees why there is nothing to press.
 */
export function adminJobsPanel(operator: Operator, csrfToken: string): SafeHtml {
  if (operator.role !== 'admin') {
    return card({
      id: 'admin-jobs',
      title: 'Admin jobs',
      body: html`<p class="muted" data-state="admin-only">You are signed in read-only. Running the evaluation or the periodic grants needs the admin key.</p>`,
    });
  }
  return card({
    id: 'admin-jobs',
    title: 'Admin jobs',
    subtitle: 'Each job is safe to repeat. The console runs it with your admin key.',
    body: html`<form class="job" method="post" action="/jobs/evaluation" hx-post="/jobs/evaluation" hx-target="#job-result" hx-swap="innerHTML">
${csrfField(csrfToken)}
<label for="evaluation-as-of">Evaluation as of <span class="muted">(Shanghai time; empty: now)</span></label>
<div class="search-row"><input id="evaluation-as-of" name="asOf" type="datetime-local" step="60"><button type="submit" class="button" data-action="run-evaluation">Run the evaluation</button></div>
</form>
<form class="job" method="post" action="/jobs/periodic-grants" hx-post="/jobs/periodic-grants" hx-target="#job-result" hx-swap="innerHTML">
${csrfField(csrfToken)}
<label for="grants-period">Periodic grants for <span class="muted">(a day 2026-12-07, a week 2026-W49 or a month 2026-12; empty: the current periods)</span></label>
<div class="search-row"><input id="grants-period" name="period" type="text" pattern="\\d{4}-(W\\d{2}|\\d{2}(-\\d{2})?)" autocomplete="off"><button type="submit" class="button" data-action="periodic-grants">Issue periodic grants</button></div>
</form>
<div id="job-result" role="status" aria-live="polite"></div>`,
  });
}
