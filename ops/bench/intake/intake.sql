-- pgbench script: the statements intake runs for one anonymous staff-entry clue when it is not
-- grouped with others (ClueRepository.storeTogether for a group of one), one transaction per
-- clue. Run with -M extended, like PostgresNIO.
BEGIN;
SELECT set_config('app.district', 'haizhu', true),
       coalesce(d.tracking_prefix, upper(d.code)), d.public_submission, d.public_submissions_per_hour,
       coalesce((SELECT enabled FROM channels WHERE code = 'staff-entry'), false),
       CASE WHEN 'tracking_haizhu_2099'::text IS NOT NULL AND coalesce((SELECT enabled FROM channels WHERE code = 'staff-entry'), false)
            THEN nextval('tracking_haizhu_2099'::regclass) END AS number
FROM districts d WHERE d.code = 'haizhu' \gset
-- The envelope is built in SQL because pgbench would take the colons of a JSON literal for variables.
WITH stored AS (
INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions,
                   source_category, channel, is_anonymous, contact_name, contact_phone, contact_address, received_at,
                   receiver_kind, receiver_name, consent_to_publish, themed_call_id, submitted_by,
                   contact_fingerprint, content_fingerprint)
VALUES (gen_random_uuid(), 'haizhu', 'HZ-2099-' || lpad(:number::text, 6, '0'), '电动自行车楼道充电安全隐患',
        '老旧小区居民在楼道内为电动自行车充电，存在火灾隐患，近期已发生多起险情。',
        '在小区内建设集中充电桩，加强物业巡查，开展消防安全宣传。', 'street-studio', 'staff-entry', true, NULL, NULL, NULL,
        now(), 'studio', '沙园街委员工作室', true, NULL, concat_ws(chr(58), 'staff', 'haizhu', 'bench-studio'), NULL, NULL)
RETURNING id
), receipt AS (
  INSERT INTO clue_receipts (clue_id, district, token_hash) SELECT id, 'haizhu', sha256(convert_to(random()::text, 'UTF8')) FROM stored
), announced AS (
  INSERT INTO outbox (event_id, source, topic, partition_key, shard, event_type, district, envelope)
  SELECT gen_random_uuid(), 'intake', 'intake-events', id::text, 3, 'clue.received', 'haizhu',
         json_build_object('causationId', NULL, 'correlationId', gen_random_uuid(), 'district', 'haizhu', 'eventId', gen_random_uuid(),
                           'occurredAt', now(), 'schemaVersion', 1, 'type', 'clue.received',
                           'payload', json_build_object('attachmentCount', 0, 'channel', 'staff-entry', 'clueId', id,
                                                        'consentToPublish', true, 'isAnonymous', true, 'receivedAt', now(),
                                                        'sourceCategory', 'street-studio', 'trackingNumber', 'HZ-2099-' || lpad(:number::text, 6, '0')))
  FROM stored
)
SELECT count(*) FROM stored;
COMMIT;
