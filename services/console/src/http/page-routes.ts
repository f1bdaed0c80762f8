import { memberIdSchema } from '@taobi/contracts';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Operator } from '../auth/session';
import type { MetricsSampler } from '../metrics/sampler';
import { loadMember, memberSearch, memberView } from '../pages/member';
import { livePanels, programmeView } from '../pages/programme';
import { contributionsPanel, loadContributions } from '../panels/member/contributions';
import { loadDecisions, timelinePanel } from '../panels/member/timeline';
import type { Upstream } from '../upstream/api';
import { toneStyle } from '../views/format';
import { html, type SafeHtml } from '../views/html';
import { shanghaiTimeField, toShanghaiField } from './forms';
import { sendFragmentOrPage, sendHtml, sendPage } from './render';

const memberQuery = z.object({ id: z.string().trim().optional(), asOf: z.string().max(40).optional() });
const pageQuery = z.object({ id: memberIdSchema, cursor: z.string().min(1).max(512).optional() });

/** The pages a signed-in operator reads: members and the programme. */
export function registerPageRoutes(
  app: FastifyInstance,
  deps: { upstream: Upstream; sampler: MetricsSampler },
): void {
  const { upstream, sampler } = deps;

  app.get('/', async (_request, reply) => reply.redirect('/members', 303));

  app.get('/members', async (request, reply) => {
    const { id, asOf: asOfText } = memberQuery.parse(request.query ?? {});
    if (!id) {
      return sendPage(request, reply, {
        title: 'Members',
        section: 'member',
        body: html`<h1 class="page-title">Members</h1>${memberSearch(undefined)}<p class="muted">Look a member up by id: their score and its contributions, tier decisions, forecast, benefits, 88VIP and offers, and what their member centre shows; or their score and tier as of an instant.</p>`,
      });
    }
    const parsed = memberIdSchema.safeParse(id);
    const asOf = shanghaiTimeField.safeParse(asOfText ?? '');
    if (!parsed.success || !asOf.success) {
      const error = !parsed.success
        ? { field: 'id' as const, message: parsed.error.issues[0]?.message ?? 'invalid' }
        : { field: 'asOf' as const, message: asOf.error?.issues[0]?.message ?? 'invalid' };
      return sendPage(
        request,
        reply,
        {
          title: 'Members',
          section: 'member',
          body: html`<h1 class="page-title">Members</h1>${memberSearch(id, { error, asOf: asOfText })}`,
        },
        400,
      );
    }
    const answers = await loadMember(upstream, parsed.data, asOf.data);
    return sendPage(request, reply, {
      title: `Member ${parsed.data}`,
      section: 'member',
      body: html`${memberSearch(parsed.data, { asOf: asOf.data && toShanghaiField(asOf.data) })}${memberView(parsed.data, answers)}`,
    });
  });

  /** One page of a paged member panel, by its cursor. */
  function pagedPanel(
    path: string,
    title: string,
    render: (id: string, cursor: string | undefined) => Promise<SafeHtml>,
  ) {
    app.get(path, async (request, reply) => {
      const query = pageQuery.safeParse(request.query ?? {});
      if (!query.success) {
        const field = query.error.issues[0]?.path.join('.') || 'id';
        return sendFragmentOrPage(
          request,
          reply,
          html`<p class="notice" style="${toneStyle('error')}">${field}: ${query.error.issues[0]?.message ?? 'invalid'}</p>`,
          { title, section: 'member' },
          400,
        );
      }
      const { id, cursor } = query.data;
      return sendFragmentOrPage(request, reply, await render(id, cursor), {
        title: `${title} of ${id}`,
        section: 'member',
      });
    });
  }

  pagedPanel('/members/contributions', 'Contributions', async (id, cursor) =>
    contributionsPanel(id, await loadContributions(upstream, id, cursor), cursor),
  );
  pagedPanel('/members/decisions', 'Tier decisions', async (id, cursor) =>
    timelinePanel(id, await loadDecisions(upstream, id, cursor), undefined, cursor),
  );

  app.get('/programme', async (request, reply) => {
    const operator = request.session.operator as Operator;
    const csrfToken = reply.generateCsrf();
    const body = await programmeView(upstream, sampler, operator, csrfToken);
    return sendPage(request, reply, { title: 'Programme', section: 'programme', body });
  });

  app.get('/programme/live', async (_request, reply) => sendHtml(reply, await livePanels(upstream, sampler)));
}
