-- Up Migration

-- The rule-set registry (docs/adr/0006): every rule set scoring has used or will use, each in force
-- from its effective_from until the next one's. The configured file (RULE_SET_FILE) seeds it at
-- boot; POST /v1/admin/rule-sets schedules one for an evaluation (never in the past). Reference
-- data, not member data: its key is the version, not member_id (a sharded deployment keeps a copy
-- on every shard).
CREATE TABLE scoring.rule_sets (
  version text PRIMARY KEY,
  effective_from timestamptz NOT NULL UNIQUE,
  -- json, not jsonb: the text as given, so the sources keep the order the data lists them in.
  rule_set json NOT NULL,
  origin text NOT NULL CHECK (origin IN ('configured', 'adopted')),
  -- The backtest that justified an adoption, as the adopter named it.
  backtest_id text,
  adopted_at timestamptz NOT NULL
);

-- Every version of every member's score, append-only (docs/adr/0007): what as-of reads answer and
-- what replay compares with the log. Written by the same statement that updates scoring.members.
-- committed_at is the service's clock when the version was written; log_* name the consumption
-- records of the batch that made a `consumption` version (its partition and first / last offset).
CREATE TABLE scoring.score_versions (
  member_id text NOT NULL,
  version integer NOT NULL,
  score integer NOT NULL,
  base integer NOT NULL,
  source_points json NOT NULL,
  window_from text NOT NULL,
  expiring_points integer NOT NULL,
  expiring_at timestamptz,
  rule_version text NOT NULL,
  reason text NOT NULL,
  committed_at timestamptz NOT NULL,
  log_partition integer,
  log_first_offset bigint,
  log_last_offset bigint,
  PRIMARY KEY (member_id, version)
);

-- The versions written before this migration are gone; the current one of each member is kept,
-- so an as-of read from now on finds it.
INSERT INTO scoring.score_versions (member_id, version, score, base, source_points, window_from,
  expiring_points, expiring_at, rule_version, reason, committed_at)
SELECT member_id, version, score, base, source_points, window_from, expiring_points, expiring_at,
  rule_version, 'migrated', updated_at
FROM scoring.members WHERE version > 0;

-- Down Migration
DROP TABLE scoring.score_versions;
DROP TABLE scoring.rule_sets;
