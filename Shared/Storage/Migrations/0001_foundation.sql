-- Foundation: districts, row-level security helpers, the transactional outbox, idempotent
-- consumers, integration credentials, and the walking skeleton's clue tables.

CREATE TABLE districts (
    code text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9-]{0,30}[a-z0-9]$'),
    name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Every table with district data is visible only inside a transaction scoped to its district
-- (SET LOCAL app.district). '*' is the scope of system-wide reads (operators, statistics).
CREATE FUNCTION district_visible(row_district text) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('app.district', true), '') IN (row_district, '*') $$;

CREATE FUNCTION district_writable(row_district text) RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('app.district', true), '') = row_district $$;

-- Events waiting to be published. The relay publishes each source's rows in id order per shard
-- (a hash of the partition key), holding a transaction-scoped advisory lock on the shard.
CREATE TABLE outbox (
    id bigserial PRIMARY KEY,
    event_id uuid NOT NULL UNIQUE,
    source text NOT NULL,
    topic text NOT NULL,
    partition_key text NOT NULL,
    shard smallint NOT NULL,
    event_type text NOT NULL,
    district text NOT NULL,
    envelope json NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    attempts integer NOT NULL DEFAULT 0,
    last_error text
);
CREATE INDEX outbox_pending ON outbox (source, shard, id) WHERE published_at IS NULL;
CREATE INDEX outbox_published ON outbox (published_at) WHERE published_at IS NOT NULL;

-- Events a consumer group has applied; written in the same transaction as their effects.
CREATE TABLE processed_events (
    consumer text NOT NULL,
    event_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- Machine integrations (e.g. the government-service platform) sign requests with HMAC-SHA256.
CREATE TABLE integration_keys (
    key_id text PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    secret text NOT NULL,
    description text NOT NULL DEFAULT '',
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Nonces seen within the signature window, so a replayed request is refused on any instance.
CREATE TABLE request_nonces (
    key_id text NOT NULL,
    nonce text NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (key_id, nonce)
);
CREATE INDEX request_nonces_expiry ON request_nonces (expires_at);

-- Intake: clues as submitted, contact data included (it never leaves PostgreSQL).
CREATE TABLE clues (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    tracking_number text NOT NULL UNIQUE,
    title text NOT NULL,
    situation_analysis text NOT NULL,
    specific_suggestions text NOT NULL,
    source_category text NOT NULL,
    channel text NOT NULL,
    is_anonymous boolean NOT NULL,
    contact_name text,
    contact_phone text,
    contact_address text,
    received_at timestamptz NOT NULL
);
CREATE INDEX clues_district_received ON clues (district, received_at);

CREATE TABLE tracking_sequences (
    district text NOT NULL REFERENCES districts (code),
    year integer NOT NULL,
    last_value integer NOT NULL,
    PRIMARY KEY (district, year)
);

-- Triage: the clue database every received clue lands in.
CREATE TABLE triage_clues (
    clue_id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    tracking_number text NOT NULL,
    channel text NOT NULL,
    status text NOT NULL DEFAULT 'awaiting-review',
    received_at timestamptz NOT NULL,
    registered_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE clues ENABLE ROW LEVEL SECURITY;
ALTER TABLE clues FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON clues
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE tracking_sequences ENABLE ROW LEVEL SECURITY;
ALTER TABLE tracking_sequences FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON tracking_sequences
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE triage_clues ENABLE ROW LEVEL SECURITY;
ALTER TABLE triage_clues FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON triage_clues
    USING (district_visible(district)) WITH CHECK (district_writable(district));
