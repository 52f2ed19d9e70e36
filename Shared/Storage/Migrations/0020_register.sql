-- The register of members and street studios (issue 22): who collects clues, kept by the
-- district's administrators, so quotas and performance records count entries, not the free
-- text a form carried. A member's studio is another entry's code; past clues keep the studio
-- they were collected by (clues store the code they were credited to when received).
CREATE TABLE register_entries (
    district text NOT NULL REFERENCES districts (code),
    code text NOT NULL CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$'),
    kind text NOT NULL CHECK (kind IN ('member', 'studio')),
    name text NOT NULL,
    sector text,
    special_committee text,
    -- A member's studio (an entry's code); a studio's street.
    studio_code text,
    street text,
    active boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL,
    PRIMARY KEY (district, code)
);
CREATE INDEX register_entries_name ON register_entries (district, kind, name);

-- Free-text receivers of clues received before the register, mapped once to an entry by a
-- person (reviewed), never guessed.
CREATE TABLE receiver_mappings (
    district text NOT NULL REFERENCES districts (code),
    kind text NOT NULL CHECK (kind IN ('member', 'studio')),
    received_name text NOT NULL,
    code text NOT NULL,
    reviewed_by text NOT NULL,
    reviewed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (district, kind, received_name),
    FOREIGN KEY (district, code) REFERENCES register_entries (district, code)
);

-- The register entry a clue was credited to when received, and the account a member or studio
-- signs in with.
ALTER TABLE clues ADD COLUMN receiver_code text;
ALTER TABLE accounts ADD COLUMN register_code text;

ALTER TABLE register_entries ENABLE ROW LEVEL SECURITY;
ALTER TABLE register_entries FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON register_entries
    USING (district_visible(district)) WITH CHECK (district_writable(district));
ALTER TABLE receiver_mappings ENABLE ROW LEVEL SECURITY;
ALTER TABLE receiver_mappings FORCE ROW LEVEL SECURITY;
CREATE POLICY district_scope ON receiver_mappings
    USING (district_visible(district)) WITH CHECK (district_writable(district));
