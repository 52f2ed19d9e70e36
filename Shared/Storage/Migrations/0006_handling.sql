-- Handling (办理) under supervision: the three meetings with the proposer (三见面), co-units'
-- opinions to the lead unit, progress notes, extension requests and the committee's decisions,
-- replies (答复) with their result category, the proposer's evaluations (满意度) and closing.

ALTER TABLE supervised_assignments
    -- Co-units: by when the lead unit is owed their opinion, and when it was given.
    ADD COLUMN opinion_due date,
    ADD COLUMN opinion_given_at timestamptz,
    ADD COLUMN replied_at timestamptz,
    ADD COLUMN extensions integer NOT NULL DEFAULT 0,
    -- The proposer's latest evaluation, and how often dissatisfaction sent it back (重新办理).
    ADD COLUMN satisfaction text CHECK (satisfaction IN ('satisfied', 'basically-satisfied', 'dissatisfied')),
    ADD COLUMN rehandlings integer NOT NULL DEFAULT 0;

CREATE TABLE handling_meetings (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    stage text NOT NULL CHECK (stage IN ('before', 'during', 'after')),
    held_on date NOT NULL,
    form text NOT NULL,
    attendees text NOT NULL,
    summary text NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX handling_meetings_assignment ON handling_meetings (assignment_id);

CREATE TABLE co_unit_opinions (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    proposal_id uuid NOT NULL,
    text text NOT NULL,
    given_at timestamptz NOT NULL,
    given_by text NOT NULL
);
-- One opinion per round of handling; a co-unit sent back by the proposer gives another.
CREATE INDEX co_unit_opinions_assignment ON co_unit_opinions (assignment_id, given_at);

CREATE TABLE progress_notes (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    text text NOT NULL,
    noted_at timestamptz NOT NULL,
    noted_by text NOT NULL
);
CREATE INDEX progress_notes_assignment ON progress_notes (assignment_id);

CREATE TABLE extension_requests (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    current_deadline date NOT NULL,
    requested_deadline date NOT NULL,
    reason text NOT NULL,
    requested_at timestamptz NOT NULL,
    requested_by text NOT NULL,
    decision text CHECK (decision IN ('granted', 'refused')),
    decided_at timestamptz,
    decided_by text,
    decision_note text
);
CREATE UNIQUE INDEX extension_requests_open ON extension_requests (assignment_id) WHERE decision IS NULL;

CREATE TABLE replies (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    proposal_id uuid NOT NULL,
    text text NOT NULL,
    category text NOT NULL CHECK (category IN ('A', 'B', 'C')),
    promised_date date,
    attachments jsonb NOT NULL DEFAULT '[]',
    on_time boolean NOT NULL,
    replied_at timestamptz NOT NULL,
    replied_by text NOT NULL,
    -- The committee may re-categorise on review.
    reviewed_category text CHECK (reviewed_category IN ('A', 'B', 'C')),
    reviewed_at timestamptz,
    reviewed_by text,
    review_note text
);
-- One reply per round of handling; a re-handled assignment replies again.
CREATE INDEX replies_assignment ON replies (assignment_id, replied_at);

CREATE TABLE reply_attachments (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    reply_id uuid NOT NULL REFERENCES replies (id),
    position integer NOT NULL,
    name text NOT NULL,
    media_type text NOT NULL,
    size_bytes integer NOT NULL,
    sha256 bytea NOT NULL,
    content bytea NOT NULL,
    UNIQUE (reply_id, position)
);

ALTER TABLE reply_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE reply_attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON reply_attachments
    USING (district_visible(district)) WITH CHECK (district_writable(district));

-- The proposer's evaluation of each unit's handling, through the proposer's own link or
-- entered by staff on the proposer's behalf.
CREATE TABLE proposer_evaluations (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    proposal_id uuid NOT NULL,
    result text NOT NULL CHECK (result IN ('satisfied', 'basically-satisfied', 'dissatisfied')),
    comment text NOT NULL DEFAULT '',
    by_proposer boolean NOT NULL,
    entered_by text NOT NULL,
    evaluated_at timestamptz NOT NULL
);
CREATE INDEX proposer_evaluations_assignment ON proposer_evaluations (assignment_id, evaluated_at);

-- The proposer's link: a random token, kept only as its SHA-256.
CREATE TABLE evaluation_links (
    proposal_id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    token_hash bytea NOT NULL UNIQUE,
    created_at timestamptz NOT NULL
);

CREATE TABLE proposal_closures (
    proposal_id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    closed_at timestamptz NOT NULL,
    closed_by text NOT NULL,
    by_decision boolean NOT NULL,
    reason text NOT NULL
);

ALTER TABLE handling_meetings ENABLE ROW LEVEL SECURITY;
ALTER TABLE handling_meetings FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON handling_meetings
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE co_unit_opinions ENABLE ROW LEVEL SECURITY;
ALTER TABLE co_unit_opinions FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON co_unit_opinions
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE progress_notes ENABLE ROW LEVEL SECURITY;
ALTER TABLE progress_notes FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON progress_notes
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE extension_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE extension_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON extension_requests
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE replies ENABLE ROW LEVEL SECURITY;
ALTER TABLE replies FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON replies
    USING (district_visible(district)) WITH CHECK (district_writable(district));

-- Supervision activities on a proposal (五督办): led by a leader, at the chairpersons' meeting,
-- by a special committee, by a sector group, or followed up by the media.
CREATE TABLE supervision_actions (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    proposal_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('leader-led', 'chairpersons-meeting', 'special-committee', 'sector-group', 'media')),
    held_on date NOT NULL,
    participants text NOT NULL,
    summary text NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL
);
CREATE INDEX supervision_actions_proposal ON supervision_actions (proposal_id, held_on);

ALTER TABLE supervision_actions ENABLE ROW LEVEL SECURITY;
ALTER TABLE supervision_actions FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON supervision_actions
    USING (district_visible(district)) WITH CHECK (district_writable(district));

-- Who owes clues (street studios monthly, members yearly), so those with none are listed too.
CREATE TABLE quota_roster (
    district text NOT NULL REFERENCES districts (code),
    kind text NOT NULL CHECK (kind IN ('studio', 'member')),
    receiver text NOT NULL,
    PRIMARY KEY (district, kind, receiver)
);

-- Reminders sent to those behind, once per month asked about.
CREATE TABLE quota_reminders (
    district text NOT NULL REFERENCES districts (code),
    month text NOT NULL,
    kind text NOT NULL,
    receiver text NOT NULL,
    shortfall integer NOT NULL,
    sent_at timestamptz NOT NULL,
    PRIMARY KEY (district, month, kind, receiver)
);

ALTER TABLE quota_reminders ENABLE ROW LEVEL SECURITY;
ALTER TABLE quota_reminders FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON quota_reminders
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE quota_roster ENABLE ROW LEVEL SECURITY;
ALTER TABLE quota_roster FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON quota_roster
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE proposer_evaluations ENABLE ROW LEVEL SECURITY;
ALTER TABLE proposer_evaluations FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON proposer_evaluations
    USING (district_visible(district)) WITH CHECK (district_writable(district));

-- The proposer's link is looked up before the district is known (the token is the credential):
-- read in the all-districts scope, written in the district's own.
ALTER TABLE evaluation_links ENABLE ROW LEVEL SECURITY;
ALTER TABLE evaluation_links FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON evaluation_links
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE proposal_closures ENABLE ROW LEVEL SECURITY;
ALTER TABLE proposal_closures FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON proposal_closures
    USING (district_visible(district)) WITH CHECK (district_writable(district));
