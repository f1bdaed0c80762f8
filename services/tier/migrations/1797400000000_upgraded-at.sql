-- Up Migration

-- When each member was last placed or raised: a refund within CLAWBACK_DAYS after it that takes the
-- score below the tier takes the tier back at once. Rows from before are left null: their upgrades
-- are never clawed back (they wait for the evaluation, as before).
ALTER TABLE tier.members ADD COLUMN upgraded_at timestamptz;

-- Down Migration
ALTER TABLE tier.members DROP COLUMN upgraded_at;
