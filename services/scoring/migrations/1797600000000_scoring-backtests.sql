-- Up Migration

-- Backtests (docs/design.md, "Backtests"): a candidate rule set replayed over the ledger beside the
-- rule set in force. One row per backtest, with everything it needs to resume after a restart: its
-- inputs as they were validated, where it stands in the ledger (`cursor`, the last member folded)
-- and what it has counted (`tally`). Not keyed by member: no member's data lives here but the
-- samples in the report.
CREATE TABLE scoring.backtests (
  id uuid PRIMARY KEY,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('running', 'completed', 'failed')),
  as_of timestamptz NOT NULL,
  -- The evaluation instant the replay goes up to: asOf, or a later evaluation the service had
  -- already run by asOf (an evaluation run ahead of the clock).
  horizon timestamptz NOT NULL,
  -- The tier service's CLAWBACK_DAYS the replay applies (scoring's copy of it, at creation).
  clawback_days integer NOT NULL,
  -- Ledger rows recorded after this instant are not read (a consistent ledger for the whole run).
  snapshot_at timestamptz NOT NULL DEFAULT now(),
  baseline_rules json NOT NULL,
  candidate_rules json NOT NULL,
  baseline_catalogue json NOT NULL,
  candidate_catalogue json NOT NULL,
  cursor text,
  done integer NOT NULL DEFAULT 0,
  total integer,
  tally json NOT NULL,
  report json NOT NULL,
  -- The last error; a backtest fails after its third attempt ends in one.
  error text,
  attempts integer NOT NULL DEFAULT 1,
  -- The instance working on it, until when: a lease that lapses (a crash) lets another resume it.
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz
);
CREATE INDEX backtests_created ON scoring.backtests (created_at DESC);
CREATE INDEX backtests_running ON scoring.backtests (lease_until) WHERE status = 'running';

-- Down Migration
DROP TABLE scoring.backtests;
