-- The proposer is told too: notices addressed to one account (the proposal's drafter), the
-- evaluation link delivered through the proposer's channels, and whether it arrived and was used.

-- A notice to one person: audience 'account', keyed by the login.
ALTER TABLE staff_notices DROP CONSTRAINT staff_notices_audience_check;
ALTER TABLE staff_notices ADD CONSTRAINT staff_notices_audience_check
    CHECK (audience IN ('unit', 'committee', 'leader', 'studio', 'member', 'account'));

-- Every account with an address can be told as itself; the roles' audiences as before.
CREATE OR REPLACE VIEW notice_recipients WITH (security_invoker = true) AS
SELECT district, login, email,
       CASE role WHEN 'handling-unit' THEN 'unit' WHEN 'proposals-committee' THEN 'committee' WHEN 'supervising-leader' THEN 'leader'
                 WHEN 'member-studio' THEN 'studio' WHEN 'member' THEN 'member' END AS audience,
       CASE role WHEN 'handling-unit' THEN unit_id::text WHEN 'proposals-committee' THEN '' ELSE display_name END AS audience_key
FROM accounts
WHERE active AND email IS NOT NULL AND email <> ''
  AND role IN ('handling-unit', 'proposals-committee', 'supervising-leader', 'member-studio', 'member')
UNION ALL
SELECT district, login, email, 'account', login
FROM accounts
WHERE active AND email IS NOT NULL AND email <> '';

-- The link's id (its secret is derived from it) and the event that asked for its delivery, so
-- the committee sees where it went; when the proposer first used it.
ALTER TABLE evaluation_links
    ADD COLUMN link_id uuid,
    ADD COLUMN request_event_id uuid,
    ADD COLUMN expires_on date,
    ADD COLUMN used_at timestamptz;
