-- Up Migration

-- Ready for sharding (docs/capacity.md): every key of a table holding a member's data starts with
-- member_id, so a shard (a Citus worker, or a Postgres database per range of members) decides
-- uniqueness alone. Surrogate ids stay unique in practice (bigserial, gen_random_uuid) and keep a
-- plain index for the queries that look a row up by id; foreign keys between member tables carry
-- member_id, so a referenced row is always on the referencing row's shard.

ALTER TABLE entitlement.welcome_draws DROP CONSTRAINT welcome_draws_grant_id_fkey;
ALTER TABLE entitlement.lottery_draws DROP CONSTRAINT lottery_draws_grant_id_fkey;
ALTER TABLE entitlement.grants DROP CONSTRAINT grants_vip88_activation_id_fkey;

ALTER TABLE entitlement.grants DROP CONSTRAINT grants_pkey, ADD CONSTRAINT grants_pkey PRIMARY KEY (member_id, id);
CREATE INDEX grants_id ON entitlement.grants (id);

ALTER TABLE entitlement.vip88_activations DROP CONSTRAINT vip88_activations_pkey,
  ADD CONSTRAINT vip88_activations_pkey PRIMARY KEY (member_id, id);
CREATE INDEX vip88_activations_id ON entitlement.vip88_activations (id);

ALTER TABLE entitlement.lottery_draws DROP CONSTRAINT lottery_draws_pkey,
  ADD CONSTRAINT lottery_draws_pkey PRIMARY KEY (member_id, id);
CREATE INDEX lottery_draws_id ON entitlement.lottery_draws (id);

ALTER TABLE entitlement.offer_redemptions DROP CONSTRAINT offer_redemptions_pkey,
  ADD CONSTRAINT offer_redemptions_pkey PRIMARY KEY (member_id, id),
  DROP CONSTRAINT offer_redemptions_once_per_member,
  ADD CONSTRAINT offer_redemptions_once_per_member UNIQUE (member_id, offer_id);
CREATE INDEX offer_redemptions_id ON entitlement.offer_redemptions (id);
-- The budget check counts an offer's redemptions across members.
CREATE INDEX offer_redemptions_offer ON entitlement.offer_redemptions (offer_id);

ALTER TABLE entitlement.tier_changes DROP CONSTRAINT tier_changes_pkey,
  ADD CONSTRAINT tier_changes_pkey PRIMARY KEY (member_id, event_id);

ALTER TABLE entitlement.grants ADD CONSTRAINT grants_vip88_activation_fkey
  FOREIGN KEY (member_id, vip88_activation_id) REFERENCES entitlement.vip88_activations (member_id, id);
ALTER TABLE entitlement.welcome_draws ADD CONSTRAINT welcome_draws_grant_fkey
  FOREIGN KEY (member_id, grant_id) REFERENCES entitlement.grants (member_id, id);
ALTER TABLE entitlement.lottery_draws ADD CONSTRAINT lottery_draws_grant_fkey
  FOREIGN KEY (member_id, grant_id) REFERENCES entitlement.grants (member_id, id);

-- Down Migration

ALTER TABLE entitlement.lottery_draws DROP CONSTRAINT lottery_draws_grant_fkey;
ALTER TABLE entitlement.welcome_draws DROP CONSTRAINT welcome_draws_grant_fkey;
ALTER TABLE entitlement.grants DROP CONSTRAINT grants_vip88_activation_fkey;
ALTER TABLE entitlement.tier_changes DROP CONSTRAINT tier_changes_pkey, ADD CONSTRAINT tier_changes_pkey PRIMARY KEY (event_id);
DROP INDEX entitlement.offer_redemptions_offer;
DROP INDEX entitlement.offer_redemptions_id;
ALTER TABLE entitlement.offer_redemptions DROP CONSTRAINT offer_redemptions_once_per_member,
  ADD CONSTRAINT offer_redemptions_once_per_member UNIQUE (offer_id, member_id),
  DROP CONSTRAINT offer_redemptions_pkey, ADD CONSTRAINT offer_redemptions_pkey PRIMARY KEY (id);
DROP INDEX entitlement.lottery_draws_id;
ALTER TABLE entitlement.lottery_draws DROP CONSTRAINT lottery_draws_pkey, ADD CONSTRAINT lottery_draws_pkey PRIMARY KEY (id);
DROP INDEX entitlement.vip88_activations_id;
ALTER TABLE entitlement.vip88_activations DROP CONSTRAINT vip88_activations_pkey,
  ADD CONSTRAINT vip88_activations_pkey PRIMARY KEY (id);
DROP INDEX entitlement.grants_id;
ALTER TABLE entitlement.grants DROP CONSTRAINT grants_pkey, ADD CONSTRAINT grants_pkey PRIMARY KEY (id);
ALTER TABLE entitlement.grants ADD CONSTRAINT grants_vip88_activation_id_fkey
  FOREIGN KEY (vip88_activation_id) REFERENCES entitlement.vip88_activations (id);
ALTER TABLE entitlement.welcome_draws ADD CONSTRAINT welcome_draws_grant_id_fkey
  FOREIGN KEY (grant_id) REFERENCES entitlement.grants (id);
ALTER TABLE entitlement.lottery_draws ADD CONSTRAINT lottery_draws_grant_id_fkey
  FOREIGN KEY (grant_id) REFERENCES entitlement.grants (id);
