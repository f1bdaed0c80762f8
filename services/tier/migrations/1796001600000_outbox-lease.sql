-- Up Migration

-- The outbox relay's lease: one relay publishes at a time, without holding a transaction while it
-- waits for Kafka (see @taobi/platform outbox.ts).
CREATE TABLE tier.outbox_lease (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  holder text NOT NULL,
  expires_at timestamptz NOT NULL
);

-- Down Migration
DROP TABLE tier.outbox_lease;
