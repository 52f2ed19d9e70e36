-- Reply templates (答复函模板): the district's, kept by the proposals committee, and each handling
-- unit's own, kept by the unit; a unit starts its reply from either.
CREATE TABLE reply_templates (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    -- NULL: the district's template, offered to every unit.
    unit_id uuid,
    name text NOT NULL,
    body text NOT NULL,
    updated_at timestamptz NOT NULL,
    updated_by text NOT NULL
);
CREATE UNIQUE INDEX reply_templates_name ON reply_templates (district, coalesce(unit_id, '00000000-0000-0000-0000-000000000000'::uuid), name);

ALTER TABLE reply_templates ENABLE ROW LEVEL SECURITY;
ALTER TABLE reply_templates FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON reply_templates
    USING (district_visible(district)) WITH CHECK (district_writable(district));
