-- Up Migration

-- Each member's current tier as the tier service last told us, with the ordering key of the record
-- that set it (scoreVersion, occurredAt, eventId): a record not newer than this is stale and ignored.
-- A member never seen is Bronze (every shopper is a member); rows with score_version -1 were created
-- by an HTTP call (welcome-gift draw, 88VIP activation) before any tier change arrived.
CREATE TABLE entitlement.members (
  member_id text PRIMARY KEY,
  tier text NOT NULL DEFAULT 'BRONZE',
  tier_rank smallint NOT NULL DEFAULT 0,
  score integer,
  score_version bigint NOT NULL DEFAULT -1,
  tier_occurred_at timestamptz,
  tier_event_id text,
  tier_since timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One row per benefit granted to a member. Nothing is granted twice for the same member, benefit and
-- period (grant_key: the period of a periodic benefit, 'once' for one-time benefits, the stint for
-- status benefits), and a member never holds two live grants of the same status benefit. Revoked,
-- used and expired rows are kept: this table is the audit trail.
CREATE TABLE entitlement.grants (
  id bigserial PRIMARY KEY,
  member_id text NOT NULL,
  benefit_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('status', 'one-time', 'periodic')),
  grant_key text NOT NULL,
  period text,
  status text NOT NULL CHECK (status IN ('granted', 'used', 'revoked', 'expired')),
  tier text NOT NULL,
  catalogue_version text NOT NULL,
  cause text NOT NULL CHECK (cause IN ('tier-change', 'periodic-issue', 'welcome-gift-draw')),
  cause_id text,
  details jsonb NOT NULL DEFAULT '{}',
  granted_at timestamptz NOT NULL,
  expires_at timestamptz,
  used_at timestamptz,
  revoked_at timestamptz,
  revoked_cause_id text,
  expired_at timestamptz,
  CONSTRAINT grants_once_per_period UNIQUE (member_id, benefit_id, grant_key)
);
CREATE UNIQUE INDEX grants_one_live_status ON entitlement.grants (member_id, benefit_id)
  WHERE kind = 'status' AND status = 'granted';
CREATE INDEX grants_by_member ON entitlement.grants (member_id, id);
CREATE INDEX grants_expiring ON entitlement.grants (expires_at) WHERE status = 'granted' AND expires_at IS NOT NULL;

-- Every tier-changed record consumed, and whether it was applied or ignored as stale (audit, debugging).
CREATE TABLE entitlement.tier_changes (
  event_id text PRIMARY KEY,
  member_id text NOT NULL,
  previous_tier text NOT NULL,
  tier text NOT NULL,
  reason text NOT NULL,
  score_version bigint NOT NULL,
  occurred_at timestamptz NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('applied', 'stale')),
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tier_changes_by_member ON entitlement.tier_changes (member_id, occurred_at);

-- 88VIP terms. The Idempotency-Key is unique per member: the same key returns the same activation.
CREATE TABLE entitlement.vip88_activations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  member_id text NOT NULL,
  idempotency_key text NOT NULL,
  tier text NOT NULL,
  price_fen integer NOT NULL CHECK (price_fen > 0),
  currency text NOT NULL,
  starts_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL CHECK (expires_at > starts_at),
  catalogue_version text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT vip88_key_once UNIQUE (member_id, idempotency_key)
);
CREATE INDEX vip88_by_member ON entitlement.vip88_activations (member_id, expires_at DESC);

-- The welcome-gift lottery: one draw per member, with everything needed to re-derive it.
CREATE TABLE entitlement.welcome_draws (
  member_id text PRIMARY KEY,
  seed text NOT NULL,
  algorithm text NOT NULL,
  catalogue_version text NOT NULL,
  tier text NOT NULL,
  probability double precision NOT NULL,
  value double precision NOT NULL,
  won boolean NOT NULL,
  grant_id bigint REFERENCES entitlement.grants (id),
  drawn_at timestamptz NOT NULL
);

-- Merchant offers targeted at a minimum tier.
CREATE TABLE entitlement.offers (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  merchant_id text NOT NULL,
  shop_id text NOT NULL,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  min_tier text NOT NULL,
  min_tier_rank smallint NOT NULL,
  percent_off smallint NOT NULL CHECK (percent_off BETWEEN 1 AND 90),
  valid_from timestamptz NOT NULL,
  valid_to timestamptz NOT NULL,
  idempotency_key text,
  created_at timestamptz NOT NULL DEFAULT now(),
  withdrawn_at timestamptz,
  CONSTRAINT offers_valid_range CHECK (valid_from < valid_to),
  CONSTRAINT offers_key_once UNIQUE (merchant_id, idempotency_key)
);
CREATE INDEX offers_live ON entitlement.offers (valid_to, min_tier_rank) WHERE withdrawn_at IS NULL;

-- Progress of each periodic issue (one per period): the job pages through members by member_id and
-- records its cursor in the same transaction as each page's grants, so a crash resumes where it was.
CREATE TABLE entitlement.periodic_runs (
  period text PRIMARY KEY,
  cadence text NOT NULL,
  cursor text NOT NULL DEFAULT '',
  members_scanned bigint NOT NULL DEFAULT 0,
  granted bigint NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  finished_at timestamptz
);

-- The transactional outbox: 1796001600000_outbox-lease.js (its DDL lives in @taobi/platform).

-- Down Migration
DROP TABLE entitlement.periodic_runs;
DROP TABLE entitlement.offers;
DROP TABLE entitlement.welcome_draws;
DROP TABLE entitlement.vip88_activations;
DROP TABLE entitlement.tier_changes;
DROP TABLE entitlement.grants;
DROP TABLE entitlement.members;
