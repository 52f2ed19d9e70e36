-- Supervision (督办), first part: every final assignment tracked until it is answered or
-- closed, and the timers (reminders, escalation, follow-up reviews) that keep it from being
-- forgotten. Timers live here, not in memory: several instances claim due ones with
-- FOR UPDATE SKIP LOCKED, and a restart loses none.

-- SupervisionSettings as JSON; a missing key keeps its default.
ALTER TABLE districts ADD COLUMN supervision_settings jsonb NOT NULL DEFAULT '{}';

-- One unit's part in a proposal, as assignment last announced it.
CREATE TABLE supervised_assignments (
    assignment_id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    proposal_id uuid NOT NULL,
    case_number text NOT NULL,
    unit_id uuid NOT NULL,
    unit_name text NOT NULL,
    role text NOT NULL CHECK (role IN ('lead', 'co-handling')),
    round integer NOT NULL,
    is_key boolean NOT NULL DEFAULT false,
    supervising_leader text,
    assigned_on date NOT NULL,
    deadline date NOT NULL,
    state text NOT NULL CHECK (state IN ('handling', 'replied', 'closed', 'superseded')),
    escalation_level text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX supervised_assignments_proposal ON supervised_assignments (proposal_id);
CREATE INDEX supervised_assignments_unit ON supervised_assignments (district, unit_id, state);

-- A timer fires once: `fired_at` is set in the transaction that acts on it; a timer whose
-- assignment was answered, superseded or closed meanwhile fires with outcome 'moot' and does
-- nothing else. Rescheduling cancels the unfired ones and plans anew.
CREATE TABLE supervision_timers (
    id bigserial PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    assignment_id uuid NOT NULL REFERENCES supervised_assignments (assignment_id),
    proposal_id uuid NOT NULL,
    kind text NOT NULL CHECK (kind IN ('reminder', 'escalation', 'follow-up', 'evaluation-window')),
    step integer NOT NULL,
    day date NOT NULL,
    due_at timestamptz NOT NULL,
    fired_at timestamptz,
    cancelled_at timestamptz,
    outcome text
);
CREATE INDEX supervision_timers_due ON supervision_timers (district, due_at) WHERE fired_at IS NULL AND cancelled_at IS NULL;
CREATE INDEX supervision_timers_assignment ON supervision_timers (assignment_id);

ALTER TABLE supervised_assignments ENABLE ROW LEVEL SECURITY;
ALTER TABLE supervised_assignments FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON supervised_assignments
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE supervision_timers ENABLE ROW LEVEL SECURITY;
ALTER TABLE supervision_timers FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON supervision_timers
    USING (district_visible(district)) WITH CHECK (district_writable(district));
