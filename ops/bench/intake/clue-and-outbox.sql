-- pgbench script, the issue's narrow baseline: only the clue INSERT and the outbox INSERT, one
-- transaction per clue (plus the district scope that row-level security requires).
\set number random(1, 2000000000)
BEGIN;
SELECT set_config('app.district', 'haizhu', true);
INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions,
                   source_category, channel, is_anonymous, contact_name, contact_phone, contact_address, received_at,
                   receiver_kind, receiver_name, consent_to_publish, themed_call_id, submitted_by,
                   contact_fingerprint, content_fingerprint)
VALUES (gen_random_uuid(), 'haizhu', 'HZ-2098-' || gen_random_uuid()::text, '电动自行车楼道充电安全隐患',
        '老旧小区居民在楼道内为电动自行车充电，存在火灾隐患，近期已发生多起险情。',
        '在小区内建设集中充电桩，加强物业巡查，开展消防安全宣传。', 'street-studio', 'staff-entry', true, NULL, NULL, NULL,
        now(), 'studio', '沙园街委员工作室', true, NULL, concat_ws(chr(58), 'staff', 'haizhu', 'bench-studio'), NULL, NULL)
RETURNING id AS clue \gset
-- The envelope is built in SQL because pgbench would take the colons of a JSON literal for variables.
INSERT INTO outbox (event_id, source, topic, partition_key, shard, event_type, district, envelope)
VALUES (gen_random_uuid(), 'intake', 'intake-events', :clue, 3, 'clue.received', 'haizhu',
        json_build_object('causationId', NULL, 'correlationId', gen_random_uuid(), 'district', 'haizhu', 'eventId', gen_random_uuid(),
                          'occurredAt', now(), 'schemaVersion', 1, 'type', 'clue.received',
                          'payload', json_build_object('attachmentCount', 0, 'channel', 'staff-entry', 'clueId', :clue::uuid,
                                                       'consentToPublish', true, 'isAnonymous', true, 'receivedAt', now(),
                                                       'sourceCategory', 'street-studio', 'trackingNumber', 'HZ-2099-' || lpad(:number::text, 6, '0'))));
COMMIT;
