-- Up Migration

-- The points per month still counted, from the last applied score-changed record (pointsByMonth):
-- what an evaluation expires, and the forecast of the evaluations after the next.
-- last_expiry: the months scoring's last evaluation record took out, so a decision made after it
-- arrived still names them.
ALTER TABLE tier.members ADD COLUMN points_by_month json, ADD COLUMN last_expiry json;

-- Every tier decision, kept forever (docs/adr/0007): one row per change of a member's tier, written
-- in the transaction that changes it and enqueues its tier-changed record. `revision` is the
-- member row's revision the change was made at (unique per member, rising); decided_at is the
-- service's clock when it was made, `at` when it took effect (the causing score change's
-- occurredAt, or the evaluation's asOf).
CREATE TABLE tier.decisions (
  member_id text NOT NULL,
  revision bigint NOT NULL,
  event_id text NOT NULL,
  at timestamptz NOT NULL,
  decided_at timestamptz NOT NULL,
  from_tier text,
  to_tier text NOT NULL,
  direction text NOT NULL,
  reason text NOT NULL,
  score integer NOT NULL,
  score_version integer NOT NULL,
  threshold integer NOT NULL,
  rule_version text NOT NULL,
  evaluation_as_of timestamptz,
  window_from text,
  window_to text,
  expired_months json NOT NULL,
  PRIMARY KEY (member_id, revision)
);

-- Every state of every member row, append-only: what `GET /v1/members/:id/tier?asOf=` answers from.
-- Written by the statement that saves the members; recorded_at is the service's clock.
CREATE TABLE tier.member_states (
  member_id text NOT NULL,
  revision bigint NOT NULL,
  recorded_at timestamptz NOT NULL,
  tier text NOT NULL,
  since timestamptz NOT NULL,
  score integer NOT NULL,
  score_version integer NOT NULL,
  expiring_points integer,
  expiring_at timestamptz,
  points_by_month json,
  last_expiry json,
  downgrade_pending boolean NOT NULL,
  last_evaluation_as_of timestamptz,
  upgraded_at timestamptz,
  PRIMARY KEY (member_id, revision)
);

-- The states before this migration are gone; each member's current one is kept.
INSERT INTO tier.member_states (member_id, revision, recorded_at, tier, since, score, score_version,
  expiring_points, expiring_at, downgrade_pending, last_evaluation_as_of, upgraded_at)
SELECT member_id, revision, updated_at, tier, since, score, score_version, expiring_points, expiring_at,
  downgrade_pending, last_evaluation_as_of, upgraded_at
FROM tier.members;

-- Down Migration
DROP TABLE tier.member_states;
DROP TABLE tier.decisions;
ALTER TABLE tier.members DROP COLUMN points_by_month, DROP COLUMN last_expiry;
