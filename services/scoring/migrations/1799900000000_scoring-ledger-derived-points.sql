-- Up Migration

-- The ledger's footprint, third step (issue 16, goal 6: at most 150 bytes per ledger event, with a
-- margin). An order row of the bench's ids goes from 80 bytes to 72 (a tuple takes a multiple of 8):
--
-- * orders.points and orders.qualifies: an order's contribution is derived where it is needed, from
--   its amount and refunds under its member's rule version (`orderContribution` in @taobi/rules), as
--   its refund total already was. A refund no longer updates its order: each such update left a
--   dead row (its space free but counted after VACUUM, the row rarely fitting on its page: not HOT)
--   and a new entry in every index of the table. The month buckets stay the source of scores.
-- * channel_code and category_code become one code, channel_category_code: the label
--   'channel/category' of `scoring.labels` (channels and categories are kebab-case ids, so '/' never
--   occurs in one and a pair never collides with a single label).
-- * merchant_id NULL when the order named none: with 8 columns the null bitmap fits in the 24-byte
--   row header (with more than 8 a NULL made it 32 bytes, hence the '' of 1799600000000).
--
-- The table is rewritten in alignment order (8, 4, 2-byte, then text) and swapped in. The fold's
-- staging type loses the points it carried.
INSERT INTO scoring.labels (label)
SELECT DISTINCT c.label || '/' || g.label FROM scoring.orders o
JOIN scoring.labels c ON c.code = o.channel_code
JOIN scoring.labels g ON g.code = o.category_code
ORDER BY 1
ON CONFLICT (label) DO NOTHING;

ALTER TYPE scoring.order_in DROP ATTRIBUTE points, DROP ATTRIBUTE qualifies;

CREATE TABLE scoring.orders_paired (
  occurred_at timestamptz NOT NULL,
  amount integer NOT NULL CONSTRAINT orders_amount_check CHECK (amount > 0),
  recorded_after integer NOT NULL,
  source_code smallint NOT NULL,
  channel_category_code smallint NOT NULL,
  member_id text NOT NULL,
  order_id text NOT NULL,
  merchant_id text,
  CONSTRAINT orders_paired_pkey PRIMARY KEY (order_id, source_code)
);
INSERT INTO scoring.orders_paired (occurred_at, amount, recorded_after, source_code, channel_category_code,
  member_id, order_id, merchant_id)
SELECT o.occurred_at, o.amount, o.recorded_after, o.source_code, p.code, o.member_id, o.order_id,
  NULLIF(o.merchant_id, '')
FROM scoring.orders o
JOIN scoring.labels c ON c.code = o.channel_code
JOIN scoring.labels g ON g.code = o.category_code
JOIN scoring.labels p ON p.label = c.label || '/' || g.label;
DROP TABLE scoring.orders;
ALTER TABLE scoring.orders_paired RENAME TO orders;
ALTER INDEX scoring.orders_paired_pkey RENAME TO orders_pkey;
CREATE INDEX orders_member ON scoring.orders (member_id);

-- Down Migration
-- The points come back as the fold credited them: from the amount less the refunds (same member),
-- under the rule set of the member's rule version (`scoring.rule_sets`), else (an order whose
-- member has no row: it never added anything) the one in force now; as `orderContribution` does
-- (points = min(orderCap, floor(net / fenPerPoint)), qualifies = net >= the source's minNetAmount).
-- An order its rule set has no weight for fails the migration (NOT NULL) rather than guess.
INSERT INTO scoring.labels (label)
SELECT DISTINCT split_part(p.label, '/', n) FROM scoring.orders o
JOIN scoring.labels p ON p.code = o.channel_category_code
CROSS JOIN (VALUES (1), (2)) AS parts(n)
ORDER BY 1
ON CONFLICT (label) DO NOTHING;

ALTER TYPE scoring.order_in ADD ATTRIBUTE points integer, ADD ATTRIBUTE qualifies boolean;

CREATE TABLE scoring.orders_coded (
  occurred_at timestamptz NOT NULL,
  amount integer NOT NULL CONSTRAINT orders_amount_check CHECK (amount > 0),
  points integer NOT NULL DEFAULT 0,
  recorded_after integer NOT NULL,
  source_code smallint NOT NULL,
  channel_code smallint NOT NULL,
  category_code smallint NOT NULL,
  qualifies boolean NOT NULL DEFAULT false,
  member_id text NOT NULL,
  order_id text NOT NULL,
  merchant_id text NOT NULL DEFAULT '',
  CONSTRAINT orders_coded_pkey PRIMARY KEY (order_id, source_code)
);
INSERT INTO scoring.orders_coded (occurred_at, amount, points, recorded_after, source_code, channel_code,
  category_code, qualifies, member_id, order_id, merchant_id)
SELECT o.occurred_at, o.amount,
  least((w.weight->>'orderCap')::integer,
        floor(greatest(0, o.amount - r.refunded) / (w.weight->>'fenPerPoint')::numeric))::integer,
  o.recorded_after, o.source_code, c.code, g.code,
  greatest(0, o.amount - r.refunded) >= (w.source_rules->'frequency'->>'minNetAmount')::bigint,
  o.member_id, o.order_id, COALESCE(o.merchant_id, '')
FROM scoring.orders o
JOIN scoring.labels s ON s.code = o.source_code
JOIN scoring.labels p ON p.code = o.channel_category_code
JOIN scoring.labels c ON c.label = split_part(p.label, '/', 1)
JOIN scoring.labels g ON g.label = split_part(p.label, '/', 2)
CROSS JOIN LATERAL (
  SELECT COALESCE(sum(x.amount), 0) AS refunded FROM scoring.refunds x
  WHERE x.member_id = o.member_id AND x.source_code = o.source_code AND x.order_id = o.order_id
) r
LEFT JOIN scoring.members m ON m.member_id = o.member_id
LEFT JOIN LATERAL (
  -- The member's version; for an order without a member row, the latest in force (else the first).
  SELECT rs.rule_set->'score'->'sources'->s.label AS source_rules,
         rs.rule_set->'score'->'sources'->s.label->'categories'->split_part(p.label, '/', 2) AS weight
  FROM scoring.rule_sets rs
  WHERE m.rule_version IS NULL OR rs.version = m.rule_version
  ORDER BY rs.effective_from <= now() DESC, CASE WHEN rs.effective_from <= now() THEN rs.effective_from END DESC,
    rs.effective_from
  LIMIT 1
) w ON true;
DROP TABLE scoring.orders;
ALTER TABLE scoring.orders_coded RENAME TO orders;
ALTER INDEX scoring.orders_coded_pkey RENAME TO orders_pkey;
CREATE INDEX orders_member ON scoring.orders (member_id);
