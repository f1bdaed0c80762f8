-- Up Migration

-- The ledger: every consumption event scoring accepted, unique on eventId and on the order /
-- refund id, so a duplicate, a redelivery or a crash before the offset commit is a no-op.
-- An order row also carries what it is worth now (refund total, points, frequency qualification).
CREATE TABLE scoring.orders (
  source text NOT NULL,
  order_id text NOT NULL,
  -- consumptionEventId(source, kind, orderId): always a UUID (checked before insert), stored as
  -- one (16 bytes) so its unique index stays small.
  event_id uuid NOT NULL UNIQUE,
  member_id text NOT NULL,
  channel text NOT NULL,
  category text NOT NULL,
  merchant_id text,
  amount bigint NOT NULL CHECK (amount > 0),
  -- The Asia/Shanghai month of occurred_at: the bucket the order and its refunds count in.
  month text NOT NULL,
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  refunded bigint NOT NULL DEFAULT 0,
  points integer NOT NULL DEFAULT 0,
  qualifies boolean NOT NULL DEFAULT false,
  PRIMARY KEY (source, order_id)
);
CREATE INDEX orders_member ON scoring.orders (member_id, occurred_at DESC);

-- Refunds, held until their order arrives: a refund counts against the order with the same
-- (source, order_id) and the same member.
CREATE TABLE scoring.refunds (
  source text NOT NULL,
  refund_id text NOT NULL,
  event_id uuid NOT NULL UNIQUE,
  order_id text NOT NULL,
  member_id text NOT NULL,
  amount bigint NOT NULL CHECK (amount > 0),
  occurred_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (source, refund_id)
);
CREATE INDEX refunds_order ON scoring.refunds (source, order_id);
CREATE INDEX refunds_member ON scoring.refunds (member_id);

-- One bucket per (member, month, source): the uncapped sums of its orders' points and of its
-- qualifying orders. They only ever change by atomic increments; the capped points are computed
-- from them by @taobi/rules (bucketPoints), so the caps live in one place.
CREATE TABLE scoring.buckets (
  member_id text NOT NULL,
  month text NOT NULL,
  source text NOT NULL,
  order_points integer NOT NULL,
  qualifying_orders integer NOT NULL,
  PRIMARY KEY (member_id, month, source)
);

-- Each member's current score. window_from only moves at a monthly evaluation.
CREATE TABLE scoring.members (
  member_id text PRIMARY KEY,
  window_from text NOT NULL,
  version integer NOT NULL DEFAULT 0,
  score integer NOT NULL,
  base integer NOT NULL,
  ecommerce integer NOT NULL DEFAULT 0,
  food integer NOT NULL DEFAULT 0,
  travel integer NOT NULL DEFAULT 0,
  mobility integer NOT NULL DEFAULT 0,
  expiring_points integer NOT NULL DEFAULT 0,
  expiring_at timestamptz,
  rule_version text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX members_window ON scoring.members (window_from, member_id);

-- Monthly evaluations: a row is written when one starts (its window start applies to members
-- first seen from then on) and completed when every member has been moved.
CREATE TABLE scoring.evaluations (
  evaluation_at timestamptz PRIMARY KEY,
  window_from text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  members_evaluated integer NOT NULL DEFAULT 0,
  members_changed integer NOT NULL DEFAULT 0,
  points_expired bigint NOT NULL DEFAULT 0
);

-- The transactional outbox: 1796001600000_outbox-lease.js (its DDL lives in @taobi/platform).

-- Down Migration
DROP TABLE scoring.evaluations;
DROP TABLE scoring.members;
DROP TABLE scoring.buckets;
DROP TABLE scoring.refunds;
DROP TABLE scoring.orders;
