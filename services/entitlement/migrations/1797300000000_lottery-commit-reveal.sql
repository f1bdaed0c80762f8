-- Up Migration

-- The welcome-gift lottery with commit and reveal: one secret seed per campaign period, its SHA-256
-- (the commitment) served before the period starts, the seed itself once the period has ended.
CREATE TABLE entitlement.lottery_campaigns (
  campaign text PRIMARY KEY,
  starts_at timestamptz NOT NULL,
  ends_at timestamptz NOT NULL CHECK (ends_at > starts_at),
  seed text NOT NULL,
  commitment text NOT NULL,
  committed_at timestamptz NOT NULL
);

-- One draw per member and tier reached for the first time, ever; a win names its voucher grant.
CREATE TABLE entitlement.lottery_draws (
  id uuid PRIMARY KEY,
  member_id text NOT NULL,
  tier text NOT NULL,
  campaign text NOT NULL REFERENCES entitlement.lottery_campaigns (campaign),
  algorithm text NOT NULL,
  catalogue_version text NOT NULL,
  probability double precision NOT NULL,
  value double precision NOT NULL,
  won boolean NOT NULL,
  grant_id bigint REFERENCES entitlement.grants (id),
  cause_id text NOT NULL,
  drawn_at timestamptz NOT NULL,
  CONSTRAINT lottery_draws_once_per_tier UNIQUE (member_id, tier)
);
CREATE INDEX lottery_draws_by_campaign ON entitlement.lottery_draws (campaign);

COMMENT ON TABLE entitlement.welcome_draws IS
  'The one-draw-per-member lottery of catalogue 2026.1 (a seed per draw): kept for audit, no longer written.';

-- Down Migration
COMMENT ON TABLE entitlement.welcome_draws IS NULL;
DROP TABLE entitlement.lottery_draws;
DROP TABLE entitlement.lottery_campaigns;
