-- Bearer tokens that end before their expiry: one token by its id, or every token of a subject
-- issued before a moment (a lost device, a person who left). Every service reads both tables
-- every few seconds. Rows of revoked_tokens are needed only until the token would have expired.
CREATE TABLE revoked_tokens (
    token_id text PRIMARY KEY,
    subject text,
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz NOT NULL DEFAULT now(),
    revoked_by text NOT NULL,
    reason text NOT NULL DEFAULT ''
);
CREATE INDEX revoked_tokens_expiry ON revoked_tokens (expires_at);

CREATE TABLE revoked_subjects (
    subject text PRIMARY KEY,
    revoked_before timestamptz NOT NULL,
    revoked_by text NOT NULL,
    reason text NOT NULL DEFAULT ''
);

-- Machine accounts an administrator named: only their tokens may live longer than 12 hours.
CREATE TABLE service_accounts (
    subject text PRIMARY KEY,
    description text NOT NULL,
    maximum_hours integer NOT NULL CHECK (maximum_hours BETWEEN 1 AND 8760),
    named_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
