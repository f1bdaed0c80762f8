import fastifyMultipart from '@fastify/multipart';
import { Errors } from '@taobi/platform';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { adminKeyOf, type Operator } from '../auth/session';
import { backtestsView, backtestView } from '../pages/backtests';
import { backtestLive } from '../panels/backtests/report';
import type { FieldProblem } from '../panels/backtests/start-form';
import type { BacktestAnswer, BacktestsAnswer } from '../panels/backtests/types';
import type { Upstream } from '../upstream/api';
import { formatDateTime, toneStyle } from '../views/format';
import { html } from '../views/html';
import { parseForm, shanghaiTimeField } from './forms';
import { sendFragmentOrPage, sendHtml, sendPage } from './render';

/** A rule file is small: a whole rule set is a few kilobytes. */
const MAX_RULE_FILE_BYTES = 256 * 1024;

const startBody = z.object({
  name: z.string().trim().max(200).default(''),
  asOf: z.string().max(40).default(''),
  ruleFile: z.instanceof(Buffer).optional(),
});
const idParams = z.object({ id: z.uuid() });
const adoptBody = z.object({
  version: z.string().trim().min(1, 'is required').max(32),
  effectiveFrom: shanghaiTimeField.refine((at) => at !== undefined, 'is required'),
});

/** The rule file's content: a JSON object (a whole rule set or an overlay), else the problem. */
export function readRuleFile(
  file: Buffer | undefined,
): { ruleSet: Record<string, unknown> } | { problem: FieldProblem } {
  const problem = (message: string) => ({ problem: { field: 'ruleFile', message } });
  if (!file || file.length === 0) return problem('choose a rule file (JSON)');
  let value: unknown;
  try {
    value = JSON.parse(file.toString('utf8'));
  } catch (error) {
    return problem(`is not JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return problem('must hold a JSON object: a rule set or the part of one that changes');
  }
  return { ruleSet: value as Record<string, unknown> };
}

/**
 * Backtests (scoring's `/v1/admin/backtests`, admin key): start one from an uploaded rule file,
 * follow it, compare, adopt its rules. Every route needs the admin key, refused (403) otherwise,
 * except the list page, which tells a read-only operator why there is nothing to see.
 */
export async function registerBacktestRoutes(app: FastifyInstance, deps: { upstream: Upstream }) {
  const { upstream } = deps;
  // Multipart forms (the rule file); fields land in request.body, so the CSRF check reads `_csrf`.
  await app.register(fastifyMultipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: MAX_RULE_FILE_BYTES, files: 1, fields: 10, parts: 12 },
  });

  async function listPage(
    request: FastifyRequest,
    reply: FastifyReply,
    extra: { values?: { name?: string; asOf?: string }; problems?: FieldProblem[] } = {},
    status = 200,
  ) {
    const operator = request.session.operator as Operator;
    const list = operator.adminKey
      ? await upstream.call<BacktestsAnswer>('scoring', '/v1/admin/backtests', { key: operator.adminKey })
      : undefined;
    const body = backtestsView({ operator, csrfToken: reply.generateCsrf(), list, ...extra });
    return sendPage(request, reply, { title: 'Backtests', section: 'backtests', body }, status);
  }

  async function readBacktest(request: FastifyRequest): Promise<BacktestAnswer> {
    const key = adminKeyOf(request);
    const params = idParams.safeParse(request.params);
    if (!params.success) throw Errors.validation([{ field: 'id', message: 'must be a backtest id (UUID)' }]);
    const result = await upstream.call<BacktestAnswer>('scoring', `/v1/admin/backtests/${params.data.id}`, {
      key,
    });
    if (result.ok) return result.data;
    if (result.status === 404) throw Errors.notFound(`no backtest ${params.data.id}`);
    throw Errors.unavailable(`scoring: ${result.message}`);
  }

  app.get('/backtests', async (request, reply) => listPage(request, reply));

  app.post('/backtests', async (request, reply) => {
    const key = adminKeyOf(request);
    const form = parseForm(startBody, request.body);
    const values = { name: form.name, asOf: form.asOf };
    const problems: FieldProblem[] = [];
    if (form.name === '') problems.push({ field: 'name', message: 'is required' });
    const asOf = shanghaiTimeField.safeParse(form.asOf);
    if (!asOf.success) problems.push({ field: 'asOf', message: asOf.error.issues[0]?.message ?? 'invalid' });
    const file = readRuleFile(form.ruleFile);
    if ('problem' in file) problems.push(file.problem);
    if (problems.length > 0 || !('ruleSet' in file))
      return listPage(request, reply, { values, problems }, 400);
    const started = await upstream.call<{ id: string; status: string }>('scoring', '/v1/admin/backtests', {
      method: 'POST',
      key,
      body: {
        name: form.name,
        ruleSet: file.ruleSet,
        ...(asOf.data ? { asOf: asOf.data.toISOString() } : {}),
      },
    });
    if (!started.ok) {
      const refused = started.status !== undefined && started.status >= 400 && started.status < 500;
      const named = started.fields ?? [{ field: 'ruleFile', message: started.message }];
      if (refused) return listPage(request, reply, { values, problems: named }, started.status);
      throw Errors.unavailable(`scoring: ${started.message}`);
    }
    request.log.info({ backtestId: started.data.id }, 'backtest started from the console');
    return reply.redirect(`/backtests/${started.data.id}`, 303);
  });

  app.get('/backtests/:id', async (request, reply) => {
    const backtest = await readBacktest(request);
    return sendPage(request, reply, {
      title: `Backtest ${backtest.name}`,
      section: 'backtests',
      body: backtestView(backtest, reply.generateCsrf()),
    });
  });

  app.get('/backtests/:id/live', async (request, reply) =>
    sendHtml(reply, backtestLive(await readBacktest(request), reply.generateCsrf())),
  );

  app.post('/backtests/:id/adopt', async (request, reply) => {
    const key = adminKeyOf(request);
    const { version, effectiveFrom } = parseForm(adoptBody, request.body);
    const backtest = await readBacktest(request);
    if (backtest.status !== 'completed' || !backtest.candidateRuleSet) {
      throw Errors.validation([{ field: 'backtestId', message: 'only a completed backtest can be adopted' }]);
    }
    const adopted = await upstream.call<{ version: string; effectiveFrom: string }>(
      'scoring',
      '/v1/admin/rule-sets',
      {
        method: 'POST',
        key,
        body: {
          ruleSet: { ...backtest.candidateRuleSet, version },
          effectiveFrom: (effectiveFrom as Date).toISOString(),
          backtestId: backtest.id,
        },
      },
    );
    const notice = adopted.ok
      ? html`<div class="notice" style="${toneStyle('ok')}" data-state="done"><strong>Adopted</strong><p>Rules ${adopted.data.version} take effect at the evaluation of ${formatDateTime(adopted.data.effectiveFrom)}.</p></div>`
      : html`<div class="notice" style="${toneStyle('error')}" data-state="failed"><strong>Not adopted</strong><p>${
          adopted.fields?.map((f) => `${f.field}: ${f.message}`).join('; ') ?? adopted.message
        }</p></div>`;
    const status = adopted.ok ? 201 : adopted.status && adopted.status < 500 ? adopted.status : 502;
    if (adopted.ok)
      request.log.info({ backtestId: backtest.id, version }, 'rule set adopted from the console');
    return sendFragmentOrPage(
      request,
      reply,
      request.headers['hx-request'] === 'true'
        ? notice
        : html`<h1 class="page-title">Adopt</h1>${notice}<p><a href="/backtests/${backtest.id}">Back to the backtest</a></p>`,
      { title: 'Adopt', section: 'backtests' },
      status,
    );
  });
}
