import { API_SERVICE_NAMES } from '@taobi/platform';
import type { FastifyInstance } from 'fastify';
import type { UpstreamService } from '../src/config';

/** Answers recorded from a running stack (m-10001: Gold, 914 points, 86 to Platinum). */
export const SCORE = {
  memberId: 'm-10001',
  score: 914,
  breakdown: { base: 300, food: 2, travel: 0, mobility: 0, ecommerce: 612 },
  window: { from: '2025-12', to: '2026-11' },
  ruleVersion: '2026.1',
  updatedAt: '2026-11-30T00:53:06.510Z',
  version: 6,
  expiringAtNextEvaluation: { points: 306, evaluationAt: '2027-10-07T16:00:00.000Z' },
};

export const HISTORY = {
  memberId: 'm-10001',
  windowFrom: '2025-12',
  months: [],
  contributions: [
    {
      eventId: '19eb3732-b728-5531-93a5-3087eb36e931',
      orderId: 'f-1',
      source: 'food',
      channel: 'eleme',
      category: 'meal',
      merchantId: null,
      occurredAt: '2026-11-29T22:53:06.000Z',
      month: '2026-11',
      amount: 5000,
      refunded: 0,
      netAmount: 5000,
      points: 1,
      qualifiesForFrequency: true,
      refunds: [],
      status: 'counted',
      expiryMonth: '2027-11',
      expiresAt: '2027-11-07T16:00:00.000Z',
    },
  ],
  heldRefunds: [],
  nextCursor: 'WyIyMDI2LTExLTI5VDIyOjUzOjA2LjAwMFoiLCJlY29tbWVyY2UiLCJvLTUiXQ',
};

export const TIER = {
  memberId: 'm-10001',
  tier: 'GOLD',
  score: 914,
  since: '2026-11-30T00:53:06.312Z',
  next: { tier: 'PLATINUM', threshold: 1000, pointsNeeded: 86 },
  downgradePending: false,
  keep: {
    tier: 'GOLD',
    threshold: 700,
    evaluationAt: '2026-12-07T16:00:00.000Z',
    expiringPoints: 0,
    forecastScore: 914,
    pointsNeeded: 0,
  },
  scoreVersion: 6,
  ruleVersion: '2026.1',
};

export const TIERS = {
  ruleVersion: '2026.1',
  tiers: [
    { tier: 'BRONZE', rank: 0, threshold: 0 },
    { tier: 'SILVER', rank: 1, threshold: 400 },
    { tier: 'GOLD', rank: 2, threshold: 700 },
    { tier: 'PLATINUM', rank: 3, threshold: 1000 },
    { tier: 'DIAMOND', rank: 4, threshold: 2500 },
    { tier: 'BLACK_DIAMOND', rank: 5, threshold: 5000 },
  ],
  downgrade: 'to-supported-tier',
  evaluation: { dayOfMonth: 8, timeZone: 'Asia/Shanghai', nextAt: '2026-12-07T16:00:00.000Z' },
};

export const DISTRIBUTION = {
  tiers: [
    { tier: 'BRONZE', members: 5 },
    { tier: 'SILVER', members: 3 },
    { tier: 'GOLD', members: 1 },
    { tier: 'PLATINUM', members: 0 },
    { tier: 'DIAMOND', members: 0 },
    { tier: 'BLACK_DIAMOND', members: 0 },
  ],
  total: 9,
  countsMembersSeen: true,
  asOf: '2026-11-30T00:53:09.580Z',
};

/** A grant of m-10001's 88VIP term (activation 7c9e...), as entitlement lists it. */
const FRESHIPPO = {
  id: '12',
  benefitId: 'freshippo-membership',
  name: 'Freshippo X membership (88VIP)',
  kind: 'status',
  status: 'granted',
  period: null,
  tier: 'GOLD',
  grantedAt: '2026-11-30T00:53:10.120Z',
  expiresAt: '2027-11-29T16:00:00.000Z',
  usedAt: null,
  revokedAt: null,
  expiredAt: null,
  cause: 'vip88-activation',
  causeId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  catalogueVersion: '2026.2',
  audience: { vip88: true },
  vip88ActivationId: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
  fulfilment: { type: 'partner-membership', partner: 'Freshippo', plan: 'Freshippo X' },
  details: {},
};

const COUPON_PACK = {
  ...FRESHIPPO,
  id: '13',
  benefitId: 'vip88-monthly-coupon-pack',
  name: '88VIP monthly Tmall coupon',
  kind: 'periodic',
  period: '2026-11',
  expiresAt: '2026-11-30T16:00:00.000Z',
  fulfilment: { type: 'coupon', channel: 'tmall', amountOffFen: 2000, minSpendFen: 15000 },
};

export const ENTITLEMENTS = {
  memberId: 'm-10001',
  tier: 'GOLD',
  tierSince: '2026-11-30T00:53:06.312Z',
  entitlements: [
    FRESHIPPO,
    {
      id: '9',
      benefitId: 'priority-customer-service',
      name: 'Priority customer service',
      kind: 'status',
      status: 'granted',
      period: null,
      tier: 'GOLD',
      grantedAt: '2026-11-30T00:53:06.430Z',
      expiresAt: null,
      usedAt: null,
      revokedAt: null,
      expiredAt: null,
      cause: 'tier-change',
      causeId: 'tier:m-10001:score:4',
      catalogueVersion: '2026.2',
      audience: { minTier: 'GOLD' },
      vip88ActivationId: null,
      fulfilment: { type: 'service', channel: 'taobao', detail: 'priority queue at customer service' },
      details: {},
    },
    {
      id: '3',
      benefitId: 'eleme-free-delivery',
      name: 'Ele.me free delivery',
      kind: 'status',
      status: 'revoked',
      period: null,
      tier: 'PLATINUM',
      grantedAt: '2026-10-30T00:53:06.430Z',
      expiresAt: null,
      usedAt: null,
      revokedAt: '2026-11-07T16:00:00.000Z',
      expiredAt: null,
      cause: 'tier-change',
      causeId: 'tier:m-10001:score:2',
      catalogueVersion: '2026.2',
      audience: { minTier: 'PLATINUM' },
      vip88ActivationId: null,
      fulfilment: { type: 'service', channel: 'eleme', detail: 'free delivery on orders of 20 CNY or more' },
      details: {},
    },
  ],
  nextBefore: null,
};

/** A Gold member (full price) with a running 88VIP term and its bundle. */
export const VIP88 = {
  memberId: 'm-10001',
  tier: 'GOLD',
  eligibleForNominalPrice: false,
  price: { amount: 88800, currency: 'CNY' },
  active: true,
  expiresAt: '2027-11-29T16:00:00.000Z',
  activation: {
    id: '7c9e6679-7425-40de-944b-e07fc1f90ae7',
    memberId: 'm-10001',
    tier: 'GOLD',
    price: { amount: 88800, currency: 'CNY' },
    startsAt: '2026-11-30T00:53:10.120Z',
    expiresAt: '2027-11-29T16:00:00.000Z',
    catalogueVersion: '2026.2',
  },
  bundle: [FRESHIPPO, COUPON_PACK],
};

/** What a Gold 88VIP holder qualifies for: no programme offer below Diamond, one merchant's offer. */
export const OFFERS = {
  memberId: 'm-10001',
  tier: 'GOLD',
  vip88: true,
  asOf: '2026-11-30T00:53:11.442Z',
  offers: [
    {
      id: '1b4e28ba-2fa1-41d2-883f-0016d3cca427',
      source: 'merchant',
      merchantId: 'dev-merchant',
      shopId: null,
      title: 'Gold and Platinum 88VIP: 15% off meals',
      description: '',
      percentOff: 15,
      audience: { tiers: ['GOLD', 'PLATINUM'], categories: ['meal'], vip88: true },
      validFrom: '2026-11-29T00:00:00.000Z',
      validTo: '2026-12-06T16:00:00.000Z',
      budget: 100,
      redeemed: 37,
      remaining: 63,
      status: 'live',
      createdAt: '2026-11-29T00:00:00.000Z',
      withdrawnAt: null,
    },
  ],
};

const READINESS = { status: 'ready', checks: {} };

/** The services' public APIs as they are today (no decisions, forecast or backtests endpoints). */
export function todaysApis(app: FastifyInstance, at: (service: UpstreamService) => string): void {
  apisWithMetrics(() => '')(app, at);
}

/** Today's APIs, each service's `/metrics` answering `metrics(service)` (Prometheus text). */
export function apisWithMetrics(metrics: (service: UpstreamService) => string) {
  return (app: FastifyInstance, at: (service: UpstreamService) => string) => allApis(app, at, metrics);
}

function allApis(
  app: FastifyInstance,
  at: (service: UpstreamService) => string,
  metrics: (service: UpstreamService) => string,
): void {
  const member = '/v1/members/:id';
  app.get(`${at('scoring')}${member}/score`, async () => SCORE);
  app.get(`${at('scoring')}${member}/score/history`, async () => HISTORY);
  app.get(`${at('tier')}${member}/tier`, async () => TIER);
  app.get(`${at('tier')}/v1/tiers`, async () => TIERS);
  app.get(`${at('tier')}/v1/tiers/distribution`, async () => DISTRIBUTION);
  app.get(`${at('entitlement')}${member}/entitlements`, async () => ENTITLEMENTS);
  app.get(`${at('entitlement')}${member}/vip88`, async () => VIP88);
  app.get(`${at('entitlement')}${member}/offers`, async () => OFFERS);
  app.get(`${at('scoring')}/v1/admin/evaluations`, async () => ({ evaluations: [] }));
  app.get(`${at('tier')}/v1/admin/evaluations`, async () => ({ evaluations: [] }));
  app.post(`${at('scoring')}/v1/admin/evaluations`, async () => ({
    evaluationAt: '2026-11-07T16:00:00.000Z',
    windowFrom: '2025-12',
    alreadyCompleted: true,
    membersEvaluated: 0,
    membersChanged: 0,
    pointsExpired: 0,
  }));
  app.post(`${at('tier')}/v1/admin/evaluations`, async (request, reply) => {
    // As tier answers an evaluation older than one already started.
    if ((request.body as { asOf: string }).asOf < '2026-01-01') {
      return reply.status(409).send({
        error: {
          code: 'EVALUATION_OUT_OF_ORDER',
          message: 'an evaluation as of a later instant already started',
        },
      });
    }
    return {
      asOf: '2026-11-07T16:00:00.000Z',
      status: 'completed',
      trigger: 'manual',
      membersEvaluated: 9,
      downgrades: 0,
      alreadyCompleted: true,
    };
  });
  app.post(`${at('entitlement')}/v1/admin/periodic-grants`, async () => ({
    runs: [{ period: '2026-W49', membersScanned: 9, granted: 4, finished: true }],
    expired: 0,
  }));
  for (const service of API_SERVICE_NAMES) {
    app.get(`${at(service)}/readyz`, async () => READINESS);
    app.get(`${at(service)}/metrics`, async (_request, reply) =>
      reply.type('text/plain').send(metrics(service)),
    );
  }
}
