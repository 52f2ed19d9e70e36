-- The public read model sets an answered assignment's reply category from the replies of each
-- batch, found by reply id; without this index every such batch read all of public_assignments,
-- and catching up slowed as the table grew.
CREATE INDEX public_assignments_reply ON public_assignments (reply_id) WHERE reply_id IS NOT NULL;
