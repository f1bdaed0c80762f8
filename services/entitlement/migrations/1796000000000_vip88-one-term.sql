-- Up Migration

-- A member never holds two overlapping 88VIP terms, whatever the concurrency and whatever the
-- clocks of the instances: Postgres refuses the second. btree_gist (a trusted contrib extension,
-- so the schema owner may create it) lets the GiST index compare member_id by equality.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Terms that already overlap were each charged: which to refund is an operator's decision, not a
-- migration's, so the migration stops naming the members rather than dropping or shortening one.
DO $$
DECLARE
  members text;
BEGIN
  SELECT string_agg(DISTINCT a.member_id, ', ') INTO members
  FROM entitlement.vip88_activations a
  JOIN entitlement.vip88_activations b
    ON a.member_id = b.member_id AND a.id <> b.id
   AND tstzrange(a.starts_at, a.expires_at) && tstzrange(b.starts_at, b.expires_at);
  IF members IS NOT NULL THEN
    RAISE EXCEPTION 'members holding overlapping 88VIP terms: %', members
      USING HINT = 'refund and delete the later term of each member, then start entitlement again';
  END IF;
END $$;

ALTER TABLE entitlement.vip88_activations
  ADD CONSTRAINT vip88_one_term_at_a_time
  EXCLUDE USING gist (member_id WITH =, tstzrange(starts_at, expires_at) WITH &&);

-- Down Migration
ALTER TABLE entitlement.vip88_activations DROP CONSTRAINT vip88_one_term_at_a_time;
