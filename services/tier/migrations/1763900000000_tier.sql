-- Up Migration

-- One row per member the service has seen (a member never seen is BRONZE at the base score).
CREATE TABLE tier.members (
  member_id text PRIMARY KEY,
  tier text NOT NULL CHECK (tier IN ('BRONZE', 'SILVER', 'GOLD', 'PLATINUM', 'DIAMOND', 'BLACK_DIAMOND')),
  since timestamptz NOT NULL,
  -- The raw score and version of the last applied taobi.score-changed.v1 record: older ones are ignored.
  score integer NOT NULL,
  score_version integer NOT NULL,
  -- What scoring said its next evaluation expires (expiringAtNextEvaluation), for the forecast.
  expiring_points integer,
  expiring_at timestamptz,
  downgrade_pending boolean NOT NULL DEFAULT false,
  -- The asOf of the last evaluation applied to the member: a second run of it does nothing.
  last_evaluation_as_of timestamptz,
  -- +1 on every change of the row: the version of the Redis read model entry.
  revision bigint NOT NULL DEFAULT 1,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_tier ON tier.members (tier);
CREATE INDEX members_downgrade_pending ON tier.members (member_id) WHERE downgrade_pending;

-- One row per monthly evaluation, resumable: members are evaluated in member_id pages and
-- `cursor` is the last member_id done.
CREATE TABLE tier.evaluations (
  as_of timestamptz PRIMARY KEY,
  status text NOT NULL CHECK (status IN ('running', 'completed')),
  trigger text NOT NULL,
  cursor text,
  members_evaluated integer NOT NULL DEFAULT 0,
  downgrades integer NOT NULL DEFAULT 0,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);

-- The transactional outbox: 1796001600000_outbox-lease.js (its DDL lives in @taobi/platform).

-- Down Migration
DROP TABLE tier.evaluations;
DROP TABLE tier.members;
