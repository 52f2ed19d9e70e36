-- Publicity (宣传、公开): the public read model, built from events and the store with personal
-- data removed, and the notifications sent to submitters, proposers and integrations.
-- The public_* tables hold nothing personal, so they carry no district policy: every district's
-- portal reads them. They are rebuilt from scratch by replaying the topics.

-- One row per filed proposal, as the feedback list (结果反馈清单) shows it.
CREATE TABLE public_proposals (
    proposal_id uuid PRIMARY KEY,
    district text NOT NULL,
    case_number text NOT NULL,
    title text NOT NULL,
    summary text NOT NULL,
    domain text,
    committee text,
    fast_track boolean NOT NULL,
    year integer NOT NULL,
    themed_call_id uuid,
    proposers text NOT NULL,
    status text NOT NULL CHECK (status IN ('filed', 'assigned', 'replied', 'evaluated', 'closed')),
    units text[] NOT NULL DEFAULT '{}',
    deadline date,
    reply_summary text,
    result_category text CHECK (result_category IN ('A', 'B', 'C')),
    satisfaction text,
    filed_at timestamptz NOT NULL,
    answered_at timestamptz,
    closed_at timestamptz,
    closing_reason text
);
CREATE INDEX public_proposals_list ON public_proposals (filed_at DESC, proposal_id);
CREATE INDEX public_proposals_district ON public_proposals (district, filed_at DESC, proposal_id);
CREATE INDEX public_proposals_answered ON public_proposals (answered_at DESC) WHERE answered_at IS NOT NULL;

-- Each unit's part of a proposal. Fields are set by whichever event carries them; each group of
-- fields keeps the time of the event that set it, so a later-read older event changes nothing
-- and a replay in another interleaving of the topics ends the same.
CREATE TABLE public_assignments (
    assignment_id uuid PRIMARY KEY,
    district text NOT NULL,
    proposal_id uuid NOT NULL,
    unit_id uuid,
    unit_name text,
    role text,
    round integer,
    assigned_on date,
    superseded boolean NOT NULL DEFAULT false,
    deadline date,
    deadline_set_at timestamptz,
    replied_at timestamptz,
    reply_id uuid,
    category text,
    on_time boolean,
    reopened_at timestamptz,
    satisfaction text,
    evaluated_at timestamptz
);
CREATE INDEX public_assignments_proposal ON public_assignments (proposal_id);
CREATE INDEX public_assignments_unit ON public_assignments (district, unit_name);

-- A proposal's steps as residents read them (received → … → closed).
CREATE TABLE public_timeline (
    proposal_id uuid NOT NULL,
    entry text NOT NULL,
    stage text NOT NULL,
    occurred_at timestamptz NOT NULL,
    assignment_id uuid,
    detail text NOT NULL DEFAULT '',
    PRIMARY KEY (proposal_id, entry)
);

-- Every clue, for statistics and themed-call counts: classifications and dates only.
CREATE TABLE public_clues (
    clue_id uuid PRIMARY KEY,
    district text NOT NULL,
    channel text,
    received_at timestamptz,
    themed_call_id uuid,
    domain text,
    street text,
    group_id uuid,
    group_set_at timestamptz,
    route text,
    proposal_id uuid
);
CREATE INDEX public_clues_district ON public_clues (district, received_at);
CREATE INDEX public_clues_call ON public_clues (themed_call_id) WHERE themed_call_id IS NOT NULL;

-- Review outcomes (立案 or not), for the filing rate.
CREATE TABLE public_reviews (
    proposal_id uuid PRIMARY KEY,
    district text NOT NULL,
    year integer NOT NULL,
    filed boolean NOT NULL
);

-- Excellent proposals the committee shows (优秀提案展示); kept by staff, not rebuilt.
CREATE TABLE showcase_entries (
    proposal_id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    citation text NOT NULL,
    added_by text NOT NULL,
    added_at timestamptz NOT NULL DEFAULT now()
);

-- Where a district's notifications go, per channel (the government-service platform's webhook).
CREATE TABLE notification_endpoints (
    district text NOT NULL REFERENCES districts (code),
    channel text NOT NULL,
    url text NOT NULL,
    secret text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, channel)
);

-- Integrations are told of their clues' progress at this address (status callbacks).
ALTER TABLE integration_keys ADD COLUMN callback_url text;

-- Outbound notifications. One per event, recipient and target: a redelivered event adds none.
-- Claimed by pushing next_attempt_at past the delivery timeout, so a crashed sender's claims
-- come back by themselves.
CREATE TABLE notifications (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    event_id uuid NOT NULL,
    event text NOT NULL,
    recipient text NOT NULL,
    channel text NOT NULL,
    target text NOT NULL,
    -- Whose secret signs it: 'endpoint' (the district's endpoint of the channel) or 'integration:KEY'.
    signer text NOT NULL,
    body jsonb NOT NULL,
    state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'dead')),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    UNIQUE (event_id, recipient, channel, target)
);
CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'pending';
CREATE INDEX notifications_state ON notifications (district, state, created_at DESC);

ALTER TABLE showcase_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE showcase_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON showcase_entries
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE notification_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE notification_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON notification_endpoints
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON notifications
    USING (district_visible(district)) WITH CHECK (district_writable(district));
