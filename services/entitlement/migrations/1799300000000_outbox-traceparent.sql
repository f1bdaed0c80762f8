-- Up Migration

-- The W3C trace context a row was written in (the record or request that caused it): the relay
-- sends it as the record's `traceparent` header, so one trace runs through the outbox (see
-- @taobi/platform outbox.ts). NULL for rows written before, or outside any trace.
ALTER TABLE entitlement.outbox ADD COLUMN traceparent text;

-- Down Migration
ALTER TABLE entitlement.outbox DROP COLUMN traceparent;
