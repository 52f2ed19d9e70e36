-- Notices to staff: what asks a unit, the committee, a supervising leader or a studio or member
-- to act, written by publicity from the lifecycle events and read in each account's workbench
-- inbox through publicity's API. Addressed to an audience, not an account: a unit's notice reaches
-- whoever holds the unit's accounts, now or later. No personal data (case numbers and dates).
CREATE TABLE staff_notices (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    event_id uuid NOT NULL,
    kind text NOT NULL,
    audience text NOT NULL CHECK (audience IN ('unit', 'committee', 'leader', 'studio', 'member')),
    -- The unit's id, the leader's, studio's or member's name; '' for the committee.
    audience_key text NOT NULL,
    title text NOT NULL,
    link text NOT NULL,
    proposal_id uuid,
    assignment_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    -- A redelivered event tells no one twice.
    UNIQUE (event_id, audience, audience_key)
);
CREATE INDEX staff_notices_inbox ON staff_notices (district, audience, audience_key, created_at DESC, id);

-- Who has read which notice (by the token subject, the account's login).
CREATE TABLE staff_notice_reads (
    notice_id uuid NOT NULL REFERENCES staff_notices (id) ON DELETE CASCADE,
    reader text NOT NULL,
    district text NOT NULL REFERENCES districts (code),
    read_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (notice_id, reader)
);

ALTER TABLE staff_notices ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_notices FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON staff_notices
    USING (district_visible(district)) WITH CHECK (district_writable(district));
ALTER TABLE staff_notice_reads ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_notice_reads FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON staff_notice_reads
    USING (district_visible(district)) WITH CHECK (district_writable(district));
