-- Operations: which dead letters were replayed, so a second `proposals-ctl dlq replay` does not
-- publish the same entry again. A replayed event that fails again comes back to the dead-letter
-- topic as a new entry with its new reason; it is never replayed without an operator asking.
CREATE TABLE dead_letter_replays (
    dead_letter_topic text NOT NULL,
    dead_letter_partition integer NOT NULL,
    dead_letter_offset bigint NOT NULL,
    origin_topic text NOT NULL,
    event_id uuid,
    replayed_by text NOT NULL,
    replayed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dead_letter_topic, dead_letter_partition, dead_letter_offset)
);
