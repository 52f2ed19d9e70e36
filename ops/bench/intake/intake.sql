-- pgbench script: the statements intake runs for one anonymous staff-entry clue
-- (ClueRepository.accept), one transaction per clue. Run with -M extended, like PostgresNIO.
\set seq random(1, 2000000000)
BEGIN;
SELECT set_config('app.district', 'haizhu', true);
SELECT coalesce(d.tracking_prefix, upper(d.code)), d.public_submission, d.public_submissions_per_hour,
       coalesce((SELECT enabled FROM channels WHERE code = 'staff-entry'), false)
FROM districts d WHERE d.code = 'haizhu';
SELECT nextval('tracking_haizhu_2099'::regclass) AS number \gset
INSERT INTO clues (id, district, tracking_number, title, situation_analysis, specific_suggestions,
                   source_category, channel, is_anonymous, contact_name, contact_phone, contact_address, received_at,
                   receiver_kind, receiver_name, consent_to_publish, themed_call_id, submitted_by,
                   contact_fingerprint, content_fingerprint)
VALUES (gen_random_uuid(), 'haizhu', 'HZ-2099-' || lpad(:number::text, 6, '0'), '电动自行车楼道充电安全隐患',
        '老旧小区居民在楼道内为电动自行车充电，存在火灾隐患，近期已发生多起险情。',
        '在小区内建设集中充电桩，加强物业巡查，开展消防安全宣传。', 'street-studio', 'staff-entry', true, NULL, NULL, NULL,
        now(), 'studio', '沙园街委员工作室', true, NULL, 'staff:haizhu:bench-studio', NULL, sha256(convert_to(:seq::text, 'UTF8')))
RETURNING id AS clue \gset
INSERT INTO clue_receipts (clue_id, district, token_hash) VALUES (:clue, 'haizhu', sha256(convert_to(random()::text, 'UTF8')));
INSERT INTO outbox (event_id, source, topic, partition_key, shard, event_type, district, envelope)
VALUES (gen_random_uuid(), 'intake', 'intake-events', :clue, 3, 'clue.received', 'haizhu',
        '{"causationId":null,"correlationId":"9f6c1c2e-5d1a-4a53-9a3e-1f0f6b7d2c11","district":"haizhu","eventId":"0b6c1c2e-5d1a-4a53-9a3e-1f0f6b7d2c11","occurredAt":"2099-01-01T00:00:00.000Z","payload":{"attachmentCount":0,"channel":"staff-entry","clueId":"1b6c1c2e-5d1a-4a53-9a3e-1f0f6b7d2c11","consentToPublish":true,"isAnonymous":true,"receivedAt":"2099-01-01T00:00:00.000Z","sourceCategory":"street-studio","trackingNumber":"HZ-2099-000001"},"schemaVersion":1,"type":"clue.received"}'::json);
COMMIT;
