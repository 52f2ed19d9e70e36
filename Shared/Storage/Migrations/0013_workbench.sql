-- The workbench: people's accounts and sessions (the one place people sign in), and the audit
-- trail every service writes in the transaction of the change it records.

-- One account per person, in a district or the municipal tenant. Logins are unique across
-- tenants: the sign-in form asks for nothing else. Only bcrypt hashes are kept.
CREATE TABLE accounts (
    id uuid PRIMARY KEY,
    district text NOT NULL REFERENCES districts (code),
    login text NOT NULL UNIQUE CHECK (login ~ '^[a-z0-9][a-z0-9._-]{2,39}$'),
    display_name text NOT NULL,
    role text NOT NULL CHECK (role IN ('administrator', 'clue-handler', 'proposals-committee', 'special-committee', 'member',
                                       'member-studio', 'handling-unit', 'supervising-leader')),
    unit_id uuid,
    phone text,
    email text,
    password_hash text NOT NULL,
    -- Set by an administrator (or the CLI): the person chooses their own at first sign-in.
    must_change_password boolean NOT NULL DEFAULT true,
    active boolean NOT NULL DEFAULT true,
    failed_sign_ins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((role = 'handling-unit') = (unit_id IS NOT NULL))
);

-- A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored. `id` is
-- the token id of every bearer token minted for the session, so ending it revokes them all.
CREATE TABLE workbench_sessions (
    id uuid PRIMARY KEY,
    secret_hash bytea NOT NULL UNIQUE,
    account_id uuid NOT NULL REFERENCES accounts (id),
    district text NOT NULL REFERENCES districts (code),
    csrf_token text NOT NULL,
    created_at timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    ended_at timestamptz,
    end_reason text
);
CREATE INDEX workbench_sessions_account ON workbench_sessions (account_id) WHERE ended_at IS NULL;

-- 审计日志: who changed what, when, from where; for settings and the like the value before and
-- after. Append-only: the trigger refuses updates and deletes, whoever asks.
CREATE TABLE audit_log (
    id bigserial PRIMARY KEY,
    district text NOT NULL,
    at timestamptz NOT NULL,
    actor text NOT NULL,
    address text,
    service text NOT NULL,
    action text NOT NULL,
    object_type text NOT NULL,
    object_id text,
    before jsonb,
    after jsonb
);
CREATE INDEX audit_log_district_at ON audit_log (district, at DESC);
CREATE INDEX audit_log_actor ON audit_log (district, actor, at DESC);
CREATE INDEX audit_log_object ON audit_log (district, object_type, object_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger
    LANGUAGE plpgsql
    AS $$ BEGIN RAISE EXCEPTION 'the audit trail is append-only' USING ERRCODE = 'P0001'; END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

ALTER TABLE accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON accounts
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE workbench_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE workbench_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON workbench_sessions
    USING (district_visible(district)) WITH CHECK (district_writable(district));

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON audit_log
    USING (district_visible(district)) WITH CHECK (district_writable(district));
