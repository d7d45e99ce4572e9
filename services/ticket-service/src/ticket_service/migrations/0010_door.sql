-- Door scanners retry after a lost answer with the same client-made nonce: the first check-in
-- it was used for is kept per scanner (the JWT subject), so the retry gets that answer back.
CREATE TABLE check_in_nonces (
    scanner_id  text NOT NULL,
    nonce       text NOT NULL CHECK (length(nonce) BETWEEN 1 AND 200),
    ticket_id   uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scanner_id, nonce)
);
CREATE INDEX check_in_nonces_age ON check_in_nonces (created_at);

-- The host's ticket list pages through an event's tickets in purchase order.
CREATE INDEX tickets_by_event_page ON tickets (event_id, purchased_at, id);

-- A complimentary ticket remembers who issued it (the host or an admin); NULL for purchases.
ALTER TABLE tickets ADD COLUMN issued_by text;
