-- Who receives a staff notice by e-mail: each active account of the notice's audience with an
-- address, as administrators keep them in the workbench. A view, so publicity reads the
-- accounts' contact through one published shape, under the same row policy (security_invoker).
CREATE VIEW notice_recipients WITH (security_invoker = true) AS
SELECT district, login, email,
       CASE role WHEN 'handling-unit' THEN 'unit' WHEN 'proposals-committee' THEN 'committee' WHEN 'supervising-leader' THEN 'leader'
                 WHEN 'member-studio' THEN 'studio' WHEN 'member' THEN 'member' END AS audience,
       CASE role WHEN 'handling-unit' THEN unit_id::text WHEN 'proposals-committee' THEN '' ELSE display_name END AS audience_key
FROM accounts
WHERE active AND email IS NOT NULL AND email <> ''
  AND role IN ('handling-unit', 'proposals-committee', 'supervising-leader', 'member-studio', 'member');
