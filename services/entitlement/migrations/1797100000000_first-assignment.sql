-- Up Migration

-- A member's first tier-changed record (direction `initial`) has no previous tier.
ALTER TABLE entitlement.tier_changes ALTER COLUMN previous_tier DROP NOT NULL;

-- Down Migration
DELETE FROM entitlement.tier_changes WHERE previous_tier IS NULL;
ALTER TABLE entitlement.tier_changes ALTER COLUMN previous_tier SET NOT NULL;
