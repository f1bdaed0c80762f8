import { isoTimeSchema } from '@taobi/contracts';
import { badField, badFields, Errors, fieldErrorsFromZod, routeTable } from '@taobi/platform';
import { adoptionEvaluationAt, adoptionProblems, ruleSetSchema, versionAt } from '@taobi/rules';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { notInForce, ruleSetView } from '../store/rule-sets';
import { adoptedSchema, rulesAtSchema, ruleVersionsSchema } from './api-schemas';
import type { RouteContext } from './context';

const rulesQuerySchema = z.strictObject({ asOf: isoTimeSchema.optional() });
const adoptionSchema = z.strictObject({
  /** A whole rule set (the schema of `RULE_SET_FILE`), under a version the registry does not hold. */
  ruleSet: z.unknown(),
  /** It takes effect at the first evaluation on or after this instant, which must be ahead. */
  effectiveFrom: isoTimeSchema,
  /** The completed backtest (`/v1/admin/backtests`) that justified it. */
  backtestId: z.string().min(1).max(128).optional(),
});

/**
 * The rule-set registry over HTTP (docs/adr/0006). `GET /v1/rules?asOf=` (read key): the version in
 * force at an instant (default now), with its validity, score rules and tier thresholds;
 * `GET /v1/rules/versions` every version (tier and the CLI read it). `POST /v1/admin/rule-sets`
 * (admin key) schedules a rule set for the first evaluation on or after `effectiveFrom`: never
 * retroactively.
 */
export function registerRuleRoutes(app: FastifyInstance, options: RouteContext): void {
  const routes = routeTable(app, { tags: ['rules'], onRequest: options.access.require('read') });

  routes.get('/v1/rules', rulesAtSchema, {
    summary: 'The rule set in force at `asOf` (default now)',
    request: { query: rulesQuerySchema },
    errors: [badField('asOf', 'is not ISO-8601'), Errors.notFound.doc('no rule set was in force then')],
    async handler({ query }) {
      const asOf = query.asOf ? new Date(query.asOf) : options.now();
      const versions = options.registry().versions();
      const entry = versionAt(versions, asOf);
      if (!entry) throw notInForce(asOf, versions[0] as (typeof versions)[number]);
      return { asOf: asOf.toISOString(), ...ruleSetView(entry) };
    },
  });

  routes.get('/v1/rules/versions', ruleVersionsSchema, {
    summary: 'Every rule-set version',
    async handler() {
      const registry = options.registry();
      const now = options.now();
      return {
        inForce: registry.inForce(now).ruleSet.version,
        versions: registry.versions().map(ruleSetView),
      };
    },
  });

  const admin = routeTable(app, { tags: ['admin', 'rules'], onRequest: options.access.require('admin') });
  admin.post('/v1/admin/rule-sets', adoptedSchema, {
    summary: 'Adopt a rule set from the first evaluation on or after `effectiveFrom`',
    status: 201,
    request: { body: adoptionSchema },
    errors: [
      badFields('the body (the rule set, an `effectiveFrom` not ahead, a backtest not completed)'),
      Errors.conflict.doc('the registry already holds this version, or another takes effect then'),
    ],
    async handler({ body }, request, reply) {
      const ruleSet = ruleSetSchema.safeParse(body.ruleSet);
      const fields = ruleSet.success ? [] : fieldErrorsFromZod(ruleSet.error.issues, ['ruleSet']);
      if (body.ruleSet === undefined)
        fields.splice(0, fields.length, { field: 'ruleSet', message: 'is required' });
      const now = options.now();
      const requested = new Date(body.effectiveFrom);
      if (requested.getTime() <= now.getTime()) {
        fields.push({
          field: 'effectiveFrom',
          message: `must be in the future (now ${now.toISOString()}): a rule set never applies retroactively`,
        });
      }
      const registry = options.registry();
      const calendar = registry.inForce(now).ruleSet;
      const effectiveFrom = adoptionEvaluationAt(requested, calendar.evaluation.dayOfMonth);
      const { rows } = await options.pool.query<{ latest: Date | null }>(
        'SELECT max(evaluation_at) AS latest FROM scoring.evaluations',
      );
      const latest = rows[0]?.latest;
      const future = requested.getTime() > now.getTime();
      if (future && latest && effectiveFrom.getTime() <= latest.getTime()) {
        fields.push({
          field: 'effectiveFrom',
          message: `the evaluation of ${effectiveFrom.toISOString()} has already run: choose a later one`,
        });
      }
      if (ruleSet.success) {
        for (const problem of adoptionProblems(calendar, ruleSet.data)) {
          fields.push({ field: `ruleSet.${problem.path}`, message: problem.message });
        }
      }
      const backtestId = body.backtestId;
      if (backtestId !== undefined) {
        // What justifies an adoption is a backtest that ran to the end, not one running or failed.
        const { rows: found } = await options.pool.query<{ status: string }>(
          'SELECT status FROM scoring.backtests WHERE id::text = $1',
          [backtestId],
        );
        const status = found[0]?.status;
        if (status !== 'completed') {
          const message = status
            ? `backtest ${backtestId} is ${status}, not completed`
            : `no backtest ${backtestId}`;
          fields.push({ field: 'backtestId', message });
        }
      }
      if (fields.length > 0 || !ruleSet.success) throw Errors.validation(fields);
      const entry = await registry.adopt({
        ruleSet: ruleSet.data,
        effectiveFrom,
        backtestId: body.backtestId ?? null,
        now,
      });
      request.log.info(
        { version: entry.ruleSet.version, effectiveFrom: effectiveFrom.toISOString(), reqId: request.id },
        'rule set adopted',
      );
      return reply.code(201).send({ ...ruleSetView(entry), requestedEffectiveFrom: requested.toISOString() });
    },
  });
}
