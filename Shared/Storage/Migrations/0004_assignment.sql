-- Assignment (交办): the handling-unit directory (versioned), each district's assignment
-- settings and holiday calendar, filed proposals waiting for assignment with their suggestion,
-- the assignments themselves, contests, and the history of every step.

-- AssignmentSettings as JSON; a missing key keeps its default.
ALTER TABLE districts ADD COLUMN assignment_settings jsonb NOT NULL DEFAULT '{}';

-- Handling units (承办单位): district departments, street offices, municipal departments.
-- Contacts are for staff only and never published.
CREATE TABLE handling_units (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    code text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,38}[a-z0-9]$'),
    name text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('district-department', 'street-office', 'municipal-department')),
    domains text[] NOT NULL DEFAULT '{}',
    keywords text[] NOT NULL DEFAULT '{}',
    contacts jsonb NOT NULL DEFAULT '[]',
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL CHECK (version > 0),
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    UNIQUE (district, code)
);

-- Every version of every unit, as saved.
CREATE TABLE handling_unit_versions (
    unit_id uuid NOT NULL REFERENCES handling_units (id),
    version integer NOT NULL,
    district text NOT NULL REFERENCES districts (code),
    snapshot jsonb NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now(),
    changed_by text NOT NULL,
    PRIMARY KEY (unit_id, version)
);

-- Public holidays and adjusted working days (调休上班) of a district's calendar.
CREATE TABLE holiday_days (
    district text NOT NULL REFERENCES districts (code),
    day date NOT NULL,
    kind text NOT NULL CHECK (kind IN ('holiday', 'working-day')),
    name text NOT NULL,
    PRIMARY KEY (district, day)
);

-- A filed proposal as assignment sees it. `handled_by` (lead first) is what suggestions for
-- later proposals learn from; `change_seq` lets each instance bring its in-memory index of
-- past proposals up to date.
CREATE SEQUENCE assignment_case_changes;
CREATE TABLE assignment_cases (
    proposal_id uuid PRIMARY KEY REFERENCES proposals (id),
    district text NOT NULL REFERENCES districts (code),
    case_number text NOT NULL,
    title text NOT NULL,
    kind text NOT NULL CHECK (kind IN ('citizen', 'ordinary')),
    domain text,
    state text NOT NULL CHECK (state IN ('awaiting-assignment', 'pre-assigned', 'assigned', 'contested')),
    filed_at timestamptz NOT NULL,
    suggestion jsonb NOT NULL,
    signature bytea NOT NULL,
    is_key boolean NOT NULL DEFAULT false,
    supervising_leader text,
    own_limit jsonb,
    round integer NOT NULL DEFAULT 0,
    handled_by uuid[] NOT NULL DEFAULT '{}',
    change_seq bigint NOT NULL DEFAULT nextval('assignment_case_changes'),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX assignment_cases_queue ON assignment_cases (district, state, filed_at);
CREATE INDEX assignment_cases_changes ON assignment_cases (district, change_seq);

-- One unit's part in one round of a proposal's assignment. A reassignment starts a new round
-- and supersedes the previous one's rows, which stay for the history.
CREATE TABLE assignments (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    proposal_id uuid NOT NULL REFERENCES assignment_cases (proposal_id),
    unit_id uuid NOT NULL REFERENCES handling_units (id),
    role text NOT NULL CHECK (role IN ('lead', 'co-handling')),
    round integer NOT NULL CHECK (round > 0),
    status text NOT NULL CHECK (status IN ('proposed', 'active', 'contested', 'superseded')),
    created_at timestamptz NOT NULL,
    created_by text NOT NULL,
    notes text NOT NULL DEFAULT '',
    -- Pre-assignment (预交办): confirm or contest by this day.
    confirm_by date,
    confirmed_at timestamptz,
    -- Final assignments: the day counting starts, the reply deadline, the contest window.
    assigned_on date,
    deadline date,
    contest_until date,
    CHECK (status = 'proposed' OR (assigned_on IS NOT NULL AND deadline IS NOT NULL) OR status = 'superseded'),
    UNIQUE (proposal_id, round, unit_id)
);
CREATE INDEX assignments_unit ON assignments (district, unit_id, status);
CREATE INDEX assignments_proposal ON assignments (proposal_id, round);
CREATE INDEX assignments_proposed ON assignments (confirm_by) WHERE status = 'proposed';

CREATE TABLE assignment_contests (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES assignments (id),
    proposal_id uuid NOT NULL REFERENCES assignment_cases (proposal_id),
    reason text NOT NULL,
    suggested_unit text,
    contested_at timestamptz NOT NULL,
    contested_by text NOT NULL,
    resolution text CHECK (resolution IN ('reassigned', 'rejected')),
    resolved_at timestamptz,
    resolved_by text,
    resolution_note text
);
CREATE UNIQUE INDEX assignment_contests_open ON assignment_contests (assignment_id) WHERE resolution IS NULL;
CREATE INDEX assignment_contests_proposal ON assignment_contests (proposal_id);

-- Every step of a proposal's assignment: who, when, what.
CREATE TABLE assignment_history (
    id bigserial PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    proposal_id uuid NOT NULL REFERENCES assignment_cases (proposal_id),
    at timestamptz NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX assignment_history_proposal ON assignment_history (proposal_id, id);

ALTER TABLE handling_units ENABLE ROW LEVEL SECURITY;
ALTER TABLE handling_units FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON handling_units
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE handling_unit_versions ENABLE ROW LEVEL SECURITY;
ALTER TABLE handling_unit_versions FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON handling_unit_versions
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE holiday_days ENABLE ROW LEVEL SECURITY;
ALTER TABLE holiday_days FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON holiday_days
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE assignment_cases ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignment_cases FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON assignment_cases
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON assignments
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE assignment_contests ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignment_contests FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON assignment_contests
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE assignment_history ENABLE ROW LEVEL SECURITY;
ALTER TABLE assignment_history FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON assignment_history
    USING (district_visible(district)) WITH CHECK (district_writable(district));
