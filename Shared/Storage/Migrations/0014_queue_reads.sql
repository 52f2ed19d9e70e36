-- The staff queues read a page of one district's clues or groups in display order.
--
-- district_visible as an OR of two comparisons: as `coalesce(setting) IN (district, '*')` the
-- planner could neither estimate it (it guessed 0.5% of rows, so every queue page sorted the
-- whole district) nor see the plain `district = setting` it contains. Same answers as before:
-- an unset app.district sees nothing.
CREATE OR REPLACE FUNCTION district_visible(row_district text) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT row_district = current_setting('app.district', true) OR current_setting('app.district', true) = '*' $$;

-- The review queue's order (newest first, clue id breaking ties), with and without a status.
DROP INDEX triage_clues_queue;
CREATE INDEX triage_clues_queue ON triage_clues (district, status, received_at, clue_id);
CREATE INDEX triage_clues_received ON triage_clues (district, received_at, clue_id);

-- Issue groups: most voices first, then the oldest group.
DROP INDEX clue_groups_district;
CREATE INDEX clue_groups_district ON clue_groups (district, voices DESC, created_at, id) WHERE merged_into IS NULL;
