import { memberIdSchema } from '@taobi/contracts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Operator } from '../auth/session';
import type { MetricsSampler } from '../metrics/sampler';
import { loadMember, memberSearch, memberView } from '../pages/member';
import { livePanels, programmeView } from '../pages/programme';
import { contributionsPanel, loadContributions } from '../panels/member/contributions';
import type { Upstream } from '../upstream/api';
import { html } from '../views/html';
import { sendFragmentOrPage, sendHtml, sendPage } from './render';

const memberQuery = z.object({ id: z.string().trim().optional() });
const contributionsQuery = z.object({ id: memberIdSchema, cursor: z.string().min(1).max(512).optional() });

/** The pages a signed-in operator reads: members and the programme. */
export function registerPageRoutes(
  app: FastifyInstance,
  deps: { upstream: Upstream; sampler: MetricsSampler },
): void {
  const { upstream, sampler } = deps;

  app.get('/', async (_request, reply) => reply.redirect('/members', 303));

  app.get('/members', async (request, reply) => {
    const { id } = memberQuery.parse(request.query ?? {});
    if (!id) {
      return sendPage(request, reply, {
        title: 'Members',
        section: 'member',
        body: html`<h1 class="page-title">Members</h1>${memberSearch(undefined)}<p class="muted">Look a member up by id: their score and its contributions, tier, forecast, benefits, 88VIP and offers, and what their member centre shows.</p>`,
      });
    }
    const parsed = memberIdSchema.safeParse(id);
    if (!parsed.success) {
      return sendPage(
        request,
        reply,
        {
          title: 'Members',
          section: 'member',
          body: html`<h1 class="page-title">Members</h1>${memberSearch(id, `Member id: ${parsed.error.issues[0]?.message ?? 'invalid'}`)}`,
        },
        400,
      );
    }
    const answers = await loadMember(upstream, parsed.data);
    return sendPage(request, reply, {
      title: `Member ${parsed.data}`,
      section: 'member',
      body: html`${memberSearch(parsed.data)}${memberView(parsed.data, answers)}`,
    });
  });

  app.get('/members/contributions', async (request, reply) => {
    const query = contributionsQuery.safeParse(request.query ?? {});
    if (!query.success) {
      const field = query.error.issues[0]?.path.join('.') || 'id';
      return sendFragmentOrPage(
        request,
        reply,
        html`<p class="notice notice-error">${field}: ${query.error.issues[0]?.message ?? 'invalid'}</p>`,
        { title: 'Contributions', section: 'member' },
        400,
      );
    }
    const { id, cursor } = query.data;
    const panel = contributionsPanel(id, await loadContributions(upstream, id, cursor), cursor);
    return sendFragmentOrPage(request, reply, panel, { title: `Contributions of ${id}`, section: 'member' });
  });

  app.get('/programme', async (request, reply) => {
    const operator = request.session.operator as Operator;
    const csrfToken = reply.generateCsrf();
    const body = await programmeView(upstream, sampler, operator, csrfToken);
    return sendPage(request, reply, { title: 'Programme', section: 'programme', body });
  });

  app.get('/programme/live', async (_request, reply) => sendHtml(reply, await livePanels(upstream, sampler)));
}
