-- Up Migration

-- Merchant offers target any combination of tiers, product categories and 88VIP holders (null: no
-- restriction), within a budget of redemptions that Postgres never lets be exceeded. Offers from
-- before budgets existed keep an effectively unbounded one; their minimum tier becomes the list of
-- tiers from it up. Shops are optional now: an offer may cover all of a merchant's shops.
DROP INDEX entitlement.offers_live;
ALTER TABLE entitlement.offers
  ADD COLUMN audience_tiers text[],
  ADD COLUMN audience_categories text[],
  ADD COLUMN audience_vip88 boolean NOT NULL DEFAULT false,
  ADD COLUMN budget integer,
  ADD COLUMN redeemed integer NOT NULL DEFAULT 0;
UPDATE entitlement.offers o
SET audience_tiers = ARRAY(
      SELECT t FROM unnest(ARRAY['BRONZE', 'SILVER', 'GOLD', 'PLATINUM', 'DIAMOND', 'BLACK_DIAMOND'])
        WITH ORDINALITY AS x(t, n)
      WHERE x.n - 1 >= o.min_tier_rank),
    budget = 2147483647;
ALTER TABLE entitlement.offers
  ALTER COLUMN budget SET NOT NULL,
  ALTER COLUMN shop_id DROP NOT NULL,
  DROP COLUMN min_tier,
  DROP COLUMN min_tier_rank,
  ADD CONSTRAINT offers_budget_positive CHECK (budget > 0),
  ADD CONSTRAINT offers_within_budget CHECK (redeemed >= 0 AND redeemed <= budget);
CREATE INDEX offers_live ON entitlement.offers (valid_to) WHERE withdrawn_at IS NULL;
CREATE INDEX offers_by_merchant ON entitlement.offers (merchant_id, created_at DESC);

-- One row per redemption: a member redeems an offer at most once, and an Idempotency-Key (per member)
-- names one redemption, so a retried checkout is counted once.
CREATE TABLE entitlement.offer_redemptions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  offer_id uuid NOT NULL REFERENCES entitlement.offers (id),
  member_id text NOT NULL,
  idempotency_key text NOT NULL,
  tier text NOT NULL,
  redeemed_at timestamptz NOT NULL,
  CONSTRAINT offer_redemptions_key_once UNIQUE (member_id, idempotency_key),
  CONSTRAINT offer_redemptions_once_per_member UNIQUE (offer_id, member_id)
);

-- Down Migration
DROP TABLE entitlement.offer_redemptions;
DROP INDEX entitlement.offers_by_merchant;
DROP INDEX entitlement.offers_live;
ALTER TABLE entitlement.offers
  ADD COLUMN min_tier text NOT NULL DEFAULT 'BRONZE',
  ADD COLUMN min_tier_rank smallint NOT NULL DEFAULT 0,
  DROP CONSTRAINT offers_within_budget,
  DROP CONSTRAINT offers_budget_positive,
  DROP COLUMN redeemed,
  DROP COLUMN budget,
  DROP COLUMN audience_vip88,
  DROP COLUMN audience_categories,
  DROP COLUMN audience_tiers;
CREATE INDEX offers_live ON entitlement.offers (valid_to, min_tier_rank) WHERE withdrawn_at IS NULL;
