-- Quotas and records count the register (issue 22), so the hand-kept roster goes; a clue keeps
-- the studio it was collected for when received, whatever studio its member moves to later.
ALTER TABLE clues ADD COLUMN receiver_studio_code text;
CREATE INDEX clues_receiver_code ON clues (district, receiver_code, received_at) WHERE receiver_code IS NOT NULL;
CREATE INDEX clues_receiver_studio ON clues (district, receiver_studio_code, received_at) WHERE receiver_studio_code IS NOT NULL;
DROP TABLE quota_roster;

-- Studios and members are told by their register entry once their account is linked to one.
CREATE OR REPLACE VIEW notice_recipients WITH (security_invoker = true) AS
SELECT district, login, email,
       CASE role WHEN 'handling-unit' THEN 'unit' WHEN 'proposals-committee' THEN 'committee' WHEN 'supervising-leader' THEN 'leader'
                 WHEN 'member-studio' THEN 'studio' WHEN 'member' THEN 'member' END AS audience,
       CASE role WHEN 'handling-unit' THEN unit_id::text WHEN 'proposals-committee' THEN ''
                 WHEN 'supervising-leader' THEN display_name ELSE coalesce(register_code, display_name) END AS audience_key
FROM accounts
WHERE active AND email IS NOT NULL AND email <> ''
  AND role IN ('handling-unit', 'proposals-committee', 'supervising-leader', 'member-studio', 'member')
UNION ALL
SELECT district, login, email, 'account', login
FROM accounts
WHERE active AND email IS NOT NULL AND email <> '';
