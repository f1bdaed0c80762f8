import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { adminKeyOf } from '../auth/session';
import type { ApiResult, Upstream } from '../upstream/api';
import { formatDateTime, formatInteger, toneStyle } from '../views/format';
import { html, type SafeHtml } from '../views/html';
import { parseForm, shanghaiTimeField } from './forms';
import { sendFragmentOrPage } from './render';

const evaluationBody = z.object({ asOf: shanghaiTimeField.optional() });
const grantsBody = z.object({
  period: z
    .string()
    .trim()
    .regex(
      /^(\d{4}-W(0[1-9]|[1-4]\d|5[0-3])|\d{4}-(0[1-9]|1[0-2])(-(0[1-9]|[12]\d|3[01]))?)?$/,
      'must be a day (2026-12-07), an ISO week (2026-W49) or a month (2026-12)',
    )
    .optional(),
});

type Failed = Extract<ApiResult<unknown>, { ok: false }>;

function failureLine(service: string, result: Failed): SafeHtml {
  return html`${service}: ${result.message}`;
}

/** A service's 4xx is passed on (the job was refused as asked); anything else is a bad gateway. */
function statusOf(failure: Failed | undefined): number {
  if (!failure) return 200;
  return failure.status !== undefined && failure.status >= 400 && failure.status < 500 ? failure.status : 502;
}

interface ScoringRun {
  evaluationAt: string;
  alreadyCompleted: boolean;
  membersEvaluated: number;
  membersChanged: number;
  pointsExpired: number;
}
interface TierRun {
  asOf: string;
  status: string;
  alreadyCompleted: boolean;
  membersEvaluated: number;
  downgrades: number;
}

interface GrantsRun {
  runs: { period: string; membersScanned: number; granted: number; finished: boolean }[];
  expired: number;
}

/** The admin jobs, run with the operator's own admin key (the console holds none of its own). */
export function registerJobRoutes(app: FastifyInstance, deps: { upstream: Upstream }): void {
  const { upstream } = deps;
  /** The job's outcome: in place for htmx, as a page with a way back otherwise. */
  function respond(
    request: FastifyRequest,
    reply: FastifyReply,
    title: string,
    lines: SafeHtml[],
    failure?: Failed,
  ) {
    const notice = html`<div class="notice" style="${toneStyle(failure ? 'error' : 'ok')}" data-state="${failure ? 'failed' : 'done'}"><strong>${title}</strong><ul>${lines.map((line) => html`<li>${line}</li>`)}</ul></div>`;
    const body =
      request.headers['hx-request'] === 'true'
        ? notice
        : html`<h1 class="page-title">Admin job</h1>${notice}<p><a href="/programme">Back to the programme</a></p>`;
    return sendFragmentOrPage(
      request,
      reply,
      body,
      { title: 'Admin job', section: 'programme' },
      statusOf(failure),
    );
  }

  /** A job `service` refused or did not answer: `what` did not run. */
  const notRun = (
    request: FastifyRequest,
    reply: FastifyReply,
    what: string,
    service: string,
    failure: Failed,
  ) => respond(request, reply, `${what} did not run`, [failureLine(service, failure)], failure);

  app.post('/jobs/evaluation', async (request, reply) => {
    const key = adminKeyOf(request);
    const { asOf } = parseForm(evaluationBody, request.body);
    const body = { asOf: (asOf ?? new Date()).toISOString() };
    // Scoring first, then tier, as `pnpm taobi evaluate` does: each decides on its own data.
    const scoring = await upstream.call<ScoringRun>('scoring', '/v1/admin/evaluations', {
      method: 'POST',
      key,
      body,
    });
    if (!scoring.ok) return notRun(request, reply, 'The evaluation', 'scoring', scoring);
    const tier = await upstream.call<TierRun>('tier', '/v1/admin/evaluations', { method: 'POST', key, body });
    const s = scoring.data;
    const lines = [
      html`Scoring: evaluation of ${formatDateTime(s.evaluationAt)}${s.alreadyCompleted ? ' had already run' : ''}: ${formatInteger(s.membersChanged)} of ${formatInteger(s.membersEvaluated)} members changed, ${formatInteger(s.pointsExpired)} points expired.`,
      tier.ok
        ? html`Tier: evaluation of ${formatDateTime(tier.data.asOf)} ${tier.data.alreadyCompleted ? 'had already run' : tier.data.status}: ${formatInteger(tier.data.downgrades)} downgrades of ${formatInteger(tier.data.membersEvaluated)} members.`
        : failureLine('tier', tier),
    ];
    request.log.info({ asOf: body.asOf, tier: tier.ok }, 'evaluation run from the console');
    const title = tier.ok ? 'Evaluation done' : 'Evaluation done on scoring only';
    return respond(request, reply, title, lines, tier.ok ? undefined : tier);
  });

  app.post('/jobs/periodic-grants', async (request, reply) => {
    const key = adminKeyOf(request);
    const { period } = parseForm(grantsBody, request.body);
    const result = await upstream.call<GrantsRun>('entitlement', '/v1/admin/periodic-grants', {
      method: 'POST',
      key,
      body: period ? { period } : {},
    });
    if (!result.ok) return notRun(request, reply, 'The periodic grants', 'entitlement', result);
    request.log.info({ period }, 'periodic grants run from the console');
    return respond(request, reply, 'Periodic grants done', [
      ...result.data.runs.map(
        (run) =>
          html`${run.period}: ${formatInteger(run.granted)} granted to ${formatInteger(run.membersScanned)} members scanned${run.finished ? '' : ' (not finished: run it again to resume)'}.`,
      ),
      html`${formatInteger(result.data.expired)} grants past their validity marked expired.`,
    ]);
  });
}
