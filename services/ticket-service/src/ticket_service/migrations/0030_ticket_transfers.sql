-- Issue 16, official ticket transfer: the host's rules per event, the ticket's transfer count and
-- QR version, and every transfer offered, accepted or withdrawn (the ticket's audit trail).

ALTER TABLE ticketed_events
    ADD COLUMN transfers_allowed         boolean NOT NULL DEFAULT true,
    ADD COLUMN transfer_deadline         timestamptz,      -- NULL: until the event starts
    ADD COLUMN max_transfers_per_ticket  integer NOT NULL DEFAULT 1
        CHECK (max_transfers_per_ticket BETWEEN 0 AND 10);

-- qr_version counts the QRs a ticket has had: a transfer bumps it (with a new attendance code),
-- so a scanner's list can tell a revoked QR from the current one.
ALTER TABLE tickets
    ADD COLUMN qr_version      integer NOT NULL DEFAULT 1 CHECK (qr_version >= 1),
    ADD COLUMN transfer_count  integer NOT NULL DEFAULT 0 CHECK (transfer_count >= 0),
    ADD COLUMN transferred_at  timestamptz;

CREATE TABLE ticket_transfers (
    id                  uuid PRIMARY KEY,
    ticket_id           uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    event_id            text NOT NULL REFERENCES ticketed_events (event_id),
    from_user_id        text NOT NULL,
    from_name           text NOT NULL,
    from_email          text NOT NULL,
    to_name             text NOT NULL CHECK (length(to_name) BETWEEN 1 AND 200),
    to_email            text NOT NULL CHECK (length(to_email) BETWEEN 3 AND 320),
    to_user_id          text,                          -- who accepted
    accept_token_hash   text NOT NULL UNIQUE,          -- SHA-256 of the token; never the token
    status              text NOT NULL DEFAULT 'offered'
                        CHECK (status IN ('offered', 'accepted', 'withdrawn', 'expired')),
    expires_at          timestamptz NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now(),
    accepted_at         timestamptz,
    withdrawn_at        timestamptz,
    CONSTRAINT accepted_has_receiver CHECK (status <> 'accepted' OR to_user_id IS NOT NULL)
);
-- At most one open offer per ticket, whoever races to make a second.
CREATE UNIQUE INDEX ticket_transfers_one_open ON ticket_transfers (ticket_id)
    WHERE status = 'offered';
CREATE INDEX ticket_transfers_by_ticket ON ticket_transfers (ticket_id, created_at);
