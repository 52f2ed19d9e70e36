-- The proposal lifecycle has one writer (ProposalStatuses.move): statuses are the state
-- machine's only, and every move is kept with the transition that made it.
ALTER TABLE proposals ADD CONSTRAINT proposals_status CHECK (status IN (
    'drafting', 'submitted', 'filed', 'not-filed', 'assigned', 'contested', 'replied', 'rehandling', 'evaluated', 'closed'));

CREATE TABLE proposal_transitions (
    id bigserial PRIMARY KEY,
    proposal_id uuid NOT NULL REFERENCES proposals (id),
    district text NOT NULL REFERENCES districts (code),
    at timestamptz NOT NULL,
    from_status text NOT NULL,
    transition text NOT NULL,
    to_status text NOT NULL,
    actor text NOT NULL
);
CREATE INDEX proposal_transitions_proposal ON proposal_transitions (proposal_id, id);

ALTER TABLE proposal_transitions ENABLE ROW LEVEL SECURITY;
ALTER TABLE proposal_transitions FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON proposal_transitions
    USING (district_visible(district)) WITH CHECK (district_writable(district));

-- Follow-up reviews (回头看) of B replies: asked for when the promised date comes (the timer
-- survives the proposal's closing), answered by the lead unit or the committee.
CREATE TABLE follow_up_reviews (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    proposal_id uuid NOT NULL,
    case_number text NOT NULL,
    unit_id uuid NOT NULL,
    unit_name text NOT NULL,
    promised date NOT NULL,
    asked_at timestamptz NOT NULL,
    result text CHECK (result IN ('done', 'partly', 'not-done')),
    note text,
    recorded_at timestamptz,
    recorded_by text,
    UNIQUE (assignment_id, promised)
);
CREATE INDEX follow_up_reviews_open ON follow_up_reviews (district, asked_at) WHERE result IS NULL;

ALTER TABLE follow_up_reviews ENABLE ROW LEVEL SECURITY;
ALTER TABLE follow_up_reviews FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON follow_up_reviews
    USING (district_visible(district)) WITH CHECK (district_writable(district));
