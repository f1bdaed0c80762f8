/**
 * The parts of the services' answers the console shows (README: Scoring, Tiers, Entitlements).
 * Declared here rather than imported: the console depends on the public API, not on service code.
 */
export const BUSINESS_LINES = ['ecommerce', 'food', 'travel', 'mobility'] as const;

export interface ScoreAnswer {
  memberId: string;
  score: number;
  breakdown: Record<'base' | (typeof BUSINESS_LINES)[number], number>;
  window: { from: string; to: string };
  ruleVersion: string;
  updatedAt: string | null;
  version: number;
  expiringAtNextEvaluation: { points: number; evaluationAt: string } | null;
}

export interface Contribution {
  orderId: string;
  source: string;
  channel: string;
  category: string;
  occurredAt: string;
  month: string;
  amount: number;
  refunded: number;
  netAmount: number;
  points: number;
  qualifiesForFrequency: boolean;
  status: string;
  expiresAt: string | null;
}

export interface ScoreHistoryAnswer {
  memberId: string;
  contributions: Contribution[];
  heldRefunds: unknown[];
  nextCursor: string | null;
}

export interface TierAnswer {
  memberId: string;
  tier: string;
  score: number;
  since: string | null;
  next: { tier: string; threshold: number; pointsNeeded: number } | null;
  downgradePending: boolean;
  keep: {
    tier: string;
    threshold: number;
    evaluationAt: string;
    expiringPoints: number;
    forecastScore: number;
    pointsNeeded: number;
  } | null;
  scoreVersion: number;
  ruleVersion: string;
}

export interface TierTableAnswer {
  ruleVersion: string;
  tiers: { tier: string; rank: number; threshold: number }[];
  downgrade: string;
  evaluation: { dayOfMonth: number; timeZone: string; nextAt: string };
}

export interface DistributionAnswer {
  tiers: { tier: string; members: number }[];
  total: number;
  asOf?: string;
}

export interface Entitlement {
  id: string;
  benefitId: string;
  name: string | null;
  kind: string;
  status: 'granted' | 'used' | 'revoked' | 'expired' | string;
  period: string | null;
  tier: string;
  grantedAt: string;
  expiresAt: string | null;
  usedAt: string | null;
  revokedAt: string | null;
  expiredAt: string | null;
  /** The 88VIP term whose bundle the grant belongs to; null for tier benefits. */
  vip88ActivationId?: string | null;
}

export interface EntitlementsAnswer {
  memberId: string;
  tier: string;
  entitlements: Entitlement[];
  nextBefore: string | null;
}

export interface Money {
  amount: number;
  currency: string;
}

export interface Vip88Answer {
  memberId: string;
  tier: string;
  eligibleForNominalPrice: boolean;
  price: Money;
  active: boolean;
  expiresAt: string | null;
  activation: { id?: string; price: Money; startsAt: string; expiresAt: string } | null;
  /** The running term's 88VIP bundle: its grants, as the entitlements list has them. */
  bundle?: Entitlement[];
}

/**
 * Who an offer is for. A programme offer (catalogue) has `minTier` or `vip88`; a merchant offer any of
 * `tiers`, `categories`, `vip88` (absent or null: no restriction).
 */
export interface OfferAudience {
  minTier?: string;
  tiers?: string[] | null;
  categories?: string[] | null;
  vip88?: boolean;
}

export interface Offer {
  id: string;
  source: 'programme' | 'merchant' | string;
  title: string;
  description?: string;
  percentOff?: number;
  audience?: OfferAudience;
  merchantId?: string;
  validTo?: string;
  /** Merchant offers: redemptions left of the budget. */
  remaining?: number;
  budget?: number;
}

export interface OffersAnswer {
  memberId: string;
  tier: string;
  /** Whether the member holds a running 88VIP term (its bundle's offers are then listed). */
  vip88?: boolean;
  offers: Offer[];
}

export interface ScoringEvaluation {
  evaluationAt: string;
  startedAt: string;
  completedAt: string | null;
  membersEvaluated: number;
  membersChanged: number;
  pointsExpired: number;
}

export interface TierEvaluation {
  asOf: string;
  status: string;
  trigger: string;
  membersEvaluated: number;
  downgrades: number;
  startedAt: string;
  completedAt: string | null;
}
