-- Personal data kept no longer than needed (the retention table in README.md).
-- A named submitter's consent to the processing of their contact details (个人信息保护法):
-- the web form requires it; integrations pass on what their user agreed to; null when not said.
ALTER TABLE clues ADD COLUMN contact_consent boolean;

-- A resident's address is needed by the hourly rate limit only: clues no longer record it, and
-- the rate limit keeps a keyed hash of it (rows pruned after two hours). Residents' stored
-- idempotent answers (kept a day; they held the form and the receipt token) are dropped.
-- The owner passes row-level security only while it is not forced, for these statements.
ALTER TABLE clues NO FORCE ROW LEVEL SECURITY;
UPDATE clues SET submitted_by = 'resident' WHERE submitted_by LIKE 'resident:%';
ALTER TABLE clues FORCE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys NO FORCE ROW LEVEL SECURITY;
DELETE FROM idempotency_keys WHERE caller LIKE 'resident:%';
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
DELETE FROM rate_limit_windows WHERE bucket LIKE 'public:%';

-- processed_events is pruned by age (PROCESSED_EVENTS_RETENTION_DAYS); rows arrive in time
-- order, so a BRIN index finds the old ones for the price of a few pages.
CREATE INDEX processed_events_age ON processed_events USING brin (processed_at);

-- Notification bodies carry names and phone numbers: emptied once delivered (or given up) for
-- PUBLICITY_NOTIFY_RETENTION_DAYS; the row stays, so a redelivered event notifies no one twice.
ALTER TABLE notifications ADD COLUMN body_pruned_at timestamptz;
