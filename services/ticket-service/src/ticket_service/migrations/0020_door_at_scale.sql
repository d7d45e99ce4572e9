-- Issue 15, the door at scale: check-in lists (gates), every scan on record, scanners that work
-- offline with a synced list, and an Ed25519 key pair per event for QR codes verifiable offline.

-- A gate: which ticket types it admits (NULL: all), whether a ticket may come back in after an
-- exit, and when it is open. Every event also has the list `default` (all types, no re-entry)
-- without a row; a host may store one under that id to change it.
CREATE TABLE check_in_lists (
    event_id         text NOT NULL REFERENCES ticketed_events (event_id),
    id               text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name             text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    ticket_type_ids  text[] CHECK (ticket_type_ids IS NULL OR cardinality(ticket_type_ids) <= 100),
    allow_reentry    boolean NOT NULL DEFAULT false,
    opens_at         timestamptz,
    closes_at        timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, id),
    CONSTRAINT check_in_list_hours_ordered CHECK (
        opens_at IS NULL OR closes_at IS NULL OR opens_at < closes_at)
);

-- Whether the ticket's holder is inside now (their last accepted scan was an entry).
ALTER TABLE tickets ADD COLUMN is_inside boolean NOT NULL DEFAULT false;

-- The list feed's change marker: the id of the transaction that last wrote the row. A reader
-- whose cursor is a snapshot's xmin sees every row written since, committed in any order.
ALTER TABLE tickets ADD COLUMN door_xid xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX tickets_door_feed ON tickets (event_id, door_xid, id);

CREATE FUNCTION tickets_mark_door_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.door_xid := pg_current_xact_id();
    RETURN NEW;
END $$;
CREATE TRIGGER tickets_door_change BEFORE UPDATE ON tickets
    FOR EACH ROW EXECUTE FUNCTION tickets_mark_door_change();

-- A device the host registered for one event's door; its token is kept as a SHA-256 hash.
CREATE TABLE scanners (
    id           uuid PRIMARY KEY,
    event_id     text NOT NULL REFERENCES ticketed_events (event_id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    list_ids     text[],                                   -- NULL: every list of the event
    token_hash   bytea NOT NULL,
    created_by   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    revoked_at   timestamptz
);
CREATE INDEX scanners_by_event ON scanners (event_id, created_at);

-- Every scan that counted or was refused: online check-ins and uploaded offline scans.
-- A ticket's admission is its earliest accepted entry (first scan wins, by scanned_at).
CREATE TABLE scans (
    id           bigserial PRIMARY KEY,
    event_id     text NOT NULL,
    ticket_id    uuid REFERENCES tickets (id) ON DELETE CASCADE,
    list_id      text NOT NULL,
    direction    text NOT NULL CHECK (direction IN ('in', 'out')),
    scanned_at   timestamptz NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    scanned_by   text NOT NULL,                 -- a scanner's id, or the host's user id online
    nonce        text CHECK (nonce IS NULL OR length(nonce) BETWEEN 1 AND 200),
    offline      boolean NOT NULL DEFAULT false,
    result       text NOT NULL CHECK (result IN ('accepted', 'duplicate', 'refused')),
    reason       text,
    flagged      boolean NOT NULL DEFAULT false  -- an offline gate let in who should not be
);
CREATE UNIQUE INDEX scans_once_per_nonce ON scans (scanned_by, nonce) WHERE nonce IS NOT NULL;
CREATE INDEX scans_by_ticket ON scans (ticket_id, scanned_at);
CREATE INDEX scans_by_event ON scans (event_id, id DESC);

-- Each event's QR signing keys; the newest unretired one signs, every one verifies.
CREATE TABLE check_in_keys (
    event_id     text NOT NULL REFERENCES ticketed_events (event_id),
    key_id       text NOT NULL CHECK (key_id ~ '^[a-z0-9]{1,32}$'),
    public_key   bytea NOT NULL CHECK (length(public_key) = 32),
    private_key  bytea NOT NULL CHECK (length(private_key) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    retired_at   timestamptz,
    PRIMARY KEY (event_id, key_id)
);

-- A host's check-in by code alone (no event_id) searches their events' tickets by code.
CREATE INDEX tickets_by_attendance_code ON tickets (attendance_code);
