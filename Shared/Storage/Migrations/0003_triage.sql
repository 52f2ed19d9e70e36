-- Triage: classification rules per district, near-duplicate groups with their LSH bands, the
-- review queue's decisions, reference topics and claims, proposal drafts and filing.

-- A district may belong to a municipal committee of the same deployment (the through train's
-- destination), has its own grouping threshold, and numbers its filed proposals per session.
ALTER TABLE districts
    ADD COLUMN parent text REFERENCES districts (code) CHECK (parent <> code),
    ADD COLUMN similarity_threshold real NOT NULL DEFAULT 0.5 CHECK (similarity_threshold BETWEEN 0.2 AND 0.95),
    ADD COLUMN co_claiming boolean NOT NULL DEFAULT false,
    ADD COLUMN current_session integer NOT NULL DEFAULT 1 CHECK (current_session > 0),
    -- 百姓提案 are reviewed and filed on a fast track (快审、快立): days from submission to decision.
    ADD COLUMN fast_track_review_days integer NOT NULL DEFAULT 5 CHECK (fast_track_review_days > 0),
    ADD COLUMN review_days integer NOT NULL DEFAULT 30 CHECK (review_days > 0);

-- Versions of a district's classification rules; the highest version is in force. Without any,
-- the built-in rules (version 0) apply.
CREATE TABLE classification_rule_sets (
    district text NOT NULL REFERENCES districts (code),
    version integer NOT NULL CHECK (version > 0),
    definition jsonb NOT NULL,
    note text NOT NULL DEFAULT '',
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, version)
);

-- A group (an "issue") of near-duplicate clues, represented by its first clue's MinHash
-- signature. Triage instances keep an LSH index of their districts' groups in memory and catch
-- up on changes by `change_seq` before each lookup; every change of a district's groups is made
-- under that district's grouping lock, so sequence order is commit order within a district.
CREATE SEQUENCE clue_group_changes;
CREATE TABLE clue_groups (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    representative uuid NOT NULL,
    signature bytea NOT NULL,
    voices integer NOT NULL CHECK (voices >= 0),
    merged_into uuid REFERENCES clue_groups (id),
    change_seq bigint NOT NULL DEFAULT nextval('clue_group_changes'),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clue_groups_district ON clue_groups (district, voices DESC) WHERE merged_into IS NULL;
CREATE INDEX clue_groups_changes ON clue_groups (district, change_seq);

ALTER TABLE triage_clues
    ADD COLUMN domain text,
    ADD COLUMN committee text,
    ADD COLUMN urgency text NOT NULL DEFAULT 'normal',
    ADD COLUMN jurisdiction text NOT NULL DEFAULT 'district',
    ADD COLUMN department text,
    ADD COLUMN street text,
    ADD COLUMN classification jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN rule_version integer NOT NULL DEFAULT 0,
    ADD COLUMN group_id uuid REFERENCES clue_groups (id),
    ADD COLUMN source_category text,
    ADD COLUMN themed_call_id uuid,
    ADD COLUMN route text,
    ADD COLUMN route_detail jsonb,
    ADD COLUMN decided_by text,
    ADD COLUMN decided_at timestamptz,
    ADD COLUMN decision_note text,
    ADD COLUMN topic_id uuid,
    ADD COLUMN proposal_id uuid,
    -- Through train: the clue this one became in the parent tenant, or came from in a member district.
    ADD COLUMN linked_clue_id uuid,
    ADD COLUMN linked_from_clue_id uuid;
CREATE INDEX triage_clues_queue ON triage_clues (district, status, received_at);
CREATE INDEX triage_clues_group ON triage_clues (group_id);

-- Every staff decision, kept: routes, merges, splits, claims, filing.
CREATE TABLE triage_decisions (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    action text NOT NULL,
    clue_ids uuid[] NOT NULL DEFAULT '{}',
    group_id uuid,
    proposal_id uuid,
    detail jsonb NOT NULL DEFAULT '{}',
    note text NOT NULL DEFAULT '',
    decided_by text NOT NULL,
    decided_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX triage_decisions_district ON triage_decisions (district, decided_at);

-- Reference topics (参考选题) proposers may claim, and their claims.
CREATE TABLE reference_topics (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    title text NOT NULL,
    group_id uuid,
    clue_ids uuid[] NOT NULL,
    domain text,
    committee text,
    status text NOT NULL DEFAULT 'open',
    published_by text NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE topic_claims (
    id uuid PRIMARY KEY,
    topic_id uuid NOT NULL REFERENCES reference_topics (id),
    district text NOT NULL REFERENCES districts (code),
    claimant text NOT NULL,
    claimant_role text NOT NULL,
    claimant_name text NOT NULL,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    released_at timestamptz
);
CREATE UNIQUE INDEX topic_claims_active ON topic_claims (topic_id, claimant) WHERE released_at IS NULL;

-- Proposals from cultivation to filing (审查立案); later stages belong to assignment and supervision.
CREATE TABLE proposals (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    status text NOT NULL,
    title text NOT NULL,
    case_summary text NOT NULL,
    reasons text NOT NULL,
    suggestions text NOT NULL,
    proposers jsonb NOT NULL,
    cosigners jsonb NOT NULL DEFAULT '[]',
    clue_ids uuid[] NOT NULL DEFAULT '{}',
    topic_id uuid REFERENCES reference_topics (id),
    domain text,
    committee text,
    fast_track boolean NOT NULL DEFAULT false,
    drafted_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    submitted_at timestamptz,
    review_due_at timestamptz,
    case_number text UNIQUE,
    session integer,
    year integer,
    reviewed_by text,
    reviewed_at timestamptz,
    review_reason text,
    alternative_route text
);
CREATE INDEX proposals_district_status ON proposals (district, status, created_at);

-- Case numbers per district, session and year: gapless, so a counter row (filing is rare).
CREATE TABLE case_sequences (
    district text NOT NULL REFERENCES districts (code),
    session integer NOT NULL,
    year integer NOT NULL,
    last_value integer NOT NULL,
    PRIMARY KEY (district, session, year)
);

ALTER TABLE classification_rule_sets ENABLE ROW LEVEL SECURITY;
ALTER TABLE classification_rule_sets FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON classification_rule_sets
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE clue_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE clue_groups FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON clue_groups
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE triage_decisions ENABLE ROW LEVEL SECURITY;
ALTER TABLE triage_decisions FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON triage_decisions
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE reference_topics ENABLE ROW LEVEL SECURITY;
ALTER TABLE reference_topics FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON reference_topics
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE topic_claims ENABLE ROW LEVEL SECURITY;
ALTER TABLE topic_claims FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON topic_claims
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE proposals ENABLE ROW LEVEL SECURITY;
ALTER TABLE proposals FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON proposals
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE case_sequences ENABLE ROW LEVEL SECURITY;
ALTER TABLE case_sequences FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON case_sequences
    USING (district_visible(district)) WITH CHECK (district_writable(district));
