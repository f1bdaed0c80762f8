-- Up Migration

-- The 88VIP bundle: benefits held while an 88VIP term runs. Each of its grants names the term
-- (vip88_activation_id); those that end with the term (ends_with_term) are revoked by the term-end
-- job when it ends, not expired by the sweep. Other grants leave both columns at their defaults.
ALTER TABLE entitlement.grants
  ADD COLUMN vip88_activation_id uuid REFERENCES entitlement.vip88_activations (id),
  ADD COLUMN ends_with_term boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT grants_ends_with_a_term CHECK (NOT ends_with_term OR vip88_activation_id IS NOT NULL);
ALTER TABLE entitlement.grants DROP CONSTRAINT grants_cause_check;
ALTER TABLE entitlement.grants ADD CONSTRAINT grants_cause_check
  CHECK (cause IN ('tier-change', 'periodic-issue', 'welcome-gift-draw', 'vip88-activation'));
CREATE INDEX grants_by_term ON entitlement.grants (vip88_activation_id) WHERE vip88_activation_id IS NOT NULL;
DROP INDEX entitlement.grants_expiring;
CREATE INDEX grants_expiring ON entitlement.grants (expires_at)
  WHERE status = 'granted' AND expires_at IS NOT NULL AND NOT ends_with_term;

-- When the term-end job closed a term (revoked what ended with it); null while it runs or is due.
ALTER TABLE entitlement.vip88_activations ADD COLUMN term_ended_at timestamptz;
CREATE INDEX vip88_terms_due ON entitlement.vip88_activations (expires_at) WHERE term_ended_at IS NULL;

-- Down Migration
DROP INDEX entitlement.vip88_terms_due;
ALTER TABLE entitlement.vip88_activations DROP COLUMN term_ended_at;
DROP INDEX entitlement.grants_expiring;
CREATE INDEX grants_expiring ON entitlement.grants (expires_at) WHERE status = 'granted' AND expires_at IS NOT NULL;
DROP INDEX entitlement.grants_by_term;
ALTER TABLE entitlement.grants DROP CONSTRAINT grants_cause_check;
ALTER TABLE entitlement.grants ADD CONSTRAINT grants_cause_check
  CHECK (cause IN ('tier-change', 'periodic-issue', 'welcome-gift-draw'));
ALTER TABLE entitlement.grants DROP CONSTRAINT grants_ends_with_a_term;
ALTER TABLE entitlement.grants DROP COLUMN ends_with_term, DROP COLUMN vip88_activation_id;
