-- Intake: the standard form in full, receipts, attachments, themed calls, channels from the
-- database, idempotent requests, resubmission fingerprints, integration scopes and rate limits.

-- How a district's tracking numbers begin (HZ-2026-000123) and whether residents may submit
-- without credentials through the public web form.
ALTER TABLE districts
    ADD COLUMN tracking_prefix text CHECK (tracking_prefix ~ '^[A-Z][A-Z0-9]{0,7}$'),
    ADD COLUMN public_submission boolean NOT NULL DEFAULT false,
    ADD COLUMN public_submissions_per_hour integer NOT NULL DEFAULT 20 CHECK (public_submissions_per_hour > 0);
CREATE UNIQUE INDEX districts_tracking_prefix ON districts (tracking_prefix);

-- Tracking numbers come from one sequence per district and year (tracking_<district>_<year>,
-- created by intake on first use): a counter row locked until commit made every clue of a
-- district wait for the previous one's commit.
DROP TABLE tracking_sequences;

-- Channels a deployment accepts; the codes are those of Models.Channel, the names are shown.
CREATE TABLE channels (
    code text PRIMARY KEY,
    name text NOT NULL,
    enabled boolean NOT NULL DEFAULT true
);
INSERT INTO channels (code, name) VALUES
    ('web', '网页表单'), ('wechat', '微信'), ('government-service-app', '政务服务平台'),
    ('qr-code', '扫码'), ('staff-entry', '代为录入'), ('batch-import', '批量导入'), ('open311', 'Open311 接口');

-- Themed calls (选题征集): a topic opened to the public for a period.
CREATE TABLE themed_calls (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    title text NOT NULL,
    description text NOT NULL DEFAULT '',
    opens_at timestamptz NOT NULL,
    closes_at timestamptz,
    closed_at timestamptz,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX themed_calls_district ON themed_calls (district, opens_at);

ALTER TABLE clues
    ADD COLUMN receiver_kind text,
    ADD COLUMN receiver_name text,
    ADD COLUMN consent_to_publish boolean NOT NULL DEFAULT false,
    ADD COLUMN themed_call_id uuid REFERENCES themed_calls (id),
    ADD COLUMN submitted_by text NOT NULL DEFAULT '',
    ADD COLUMN status text NOT NULL DEFAULT 'received',
    ADD COLUMN status_updated_at timestamptz,
    -- SHA-256 of the normalised contact and text: the same contact sending the same text again
    -- within the resubmission window gets the first clue's tracking number back.
    ADD COLUMN contact_fingerprint bytea,
    ADD COLUMN content_fingerprint bytea;
CREATE INDEX clues_resubmission ON clues (district, contact_fingerprint, content_fingerprint, received_at)
    WHERE contact_fingerprint IS NOT NULL;

-- Receipt tokens are shown once; only their SHA-256 is kept. A resubmission gets a token of its own.
CREATE TABLE clue_receipts (
    clue_id uuid NOT NULL REFERENCES clues (id),
    district text NOT NULL REFERENCES districts (code),
    token_hash bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (clue_id, token_hash)
);

CREATE TABLE clue_attachments (
    id uuid PRIMARY KEY,
    clue_id uuid NOT NULL REFERENCES clues (id),
    district text NOT NULL REFERENCES districts (code),
    position integer NOT NULL,
    name text NOT NULL,
    media_type text NOT NULL,
    size_bytes integer NOT NULL,
    sha256 bytea NOT NULL,
    content bytea NOT NULL
);
CREATE INDEX clue_attachments_clue ON clue_attachments (clue_id, position);

-- The first answer to a request carrying an Idempotency-Key, replayed to retries with the same body.
CREATE TABLE idempotency_keys (
    caller text NOT NULL,
    key text NOT NULL,
    district text NOT NULL REFERENCES districts (code),
    request_hash bytea NOT NULL,
    response_status integer NOT NULL,
    response_body bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (caller, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Integration keys are scoped to districts and channels and have a rate limit.
ALTER TABLE integration_keys
    ADD COLUMN districts text[],
    ADD COLUMN channels text[] NOT NULL DEFAULT ARRAY['government-service-app', 'wechat', 'web', 'qr-code', 'open311'],
    ADD COLUMN requests_per_minute integer NOT NULL DEFAULT 600 CHECK (requests_per_minute > 0);
UPDATE integration_keys SET districts = ARRAY[district];
ALTER TABLE integration_keys ALTER COLUMN districts SET NOT NULL;
ALTER TABLE integration_keys ALTER COLUMN district DROP NOT NULL;

-- Fixed-window request counters shared by every instance (integration keys, public addresses).
CREATE TABLE rate_limit_windows (
    bucket text NOT NULL,
    window_start timestamptz NOT NULL,
    hits integer NOT NULL,
    PRIMARY KEY (bucket, window_start)
);

ALTER TABLE themed_calls ENABLE ROW LEVEL SECURITY;
ALTER TABLE themed_calls FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON themed_calls
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE clue_receipts ENABLE ROW LEVEL SECURITY;
ALTER TABLE clue_receipts FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON clue_receipts
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE clue_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE clue_attachments FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON clue_attachments
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE idempotency_keys ENABLE ROW LEVEL SECURITY;
ALTER TABLE idempotency_keys FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON idempotency_keys
    USING (district_visible(district)) WITH CHECK (district_writable(district));
