-- Issue 16, receipts: every paid order gets a numbered receipt, every refund a credit note that
-- references it. Numbers are gap-free per host, year (WIB) and kind: the counter row is taken in
-- the transaction that marks the order paid, so a rollback gives its number back and concurrent
-- payments of one host queue on that row.

-- The regional entertainment tax (PBJT) the host charges, in percent, at most 10 (Jakarta's).
ALTER TABLE ticketed_events
    ADD COLUMN pbjt_rate numeric(4, 2) NOT NULL DEFAULT 10 CHECK (pbjt_rate BETWEEN 0 AND 10);

CREATE TABLE receipt_counters (
    host_id      text NOT NULL,
    year         integer NOT NULL CHECK (year BETWEEN 2000 AND 2999),
    kind         text NOT NULL CHECK (kind IN ('receipt', 'credit_note')),
    last_number  integer NOT NULL CHECK (last_number >= 1),
    PRIMARY KEY (host_id, year, kind)
);

CREATE TABLE receipts (
    id                 uuid PRIMARY KEY,
    kind               text NOT NULL CHECK (kind IN ('receipt', 'credit_note')),
    host_id            text NOT NULL,
    year               integer NOT NULL,
    number             integer NOT NULL CHECK (number >= 1),
    order_id           uuid NOT NULL REFERENCES orders (id),
    event_id           text NOT NULL REFERENCES ticketed_events (event_id),
    credits_receipt_id uuid REFERENCES receipts (id),   -- a credit note's receipt
    refund_key         text,                            -- which refund a credit note is for
    issued_at          timestamptz NOT NULL DEFAULT now(),
    total              bigint NOT NULL CHECK (total >= 0),  -- paid; or refunded (credit note)
    pbjt_rate          numeric(4, 2) NOT NULL,
    pbjt_amount        bigint NOT NULL CHECK (pbjt_amount >= 0),
    platform_fee       bigint NOT NULL CHECK (platform_fee >= 0),
    ppn_rate           numeric(4, 2) NOT NULL,
    ppn_amount         bigint NOT NULL CHECK (ppn_amount >= 0),
    document           jsonb NOT NULL,                  -- buyer, items, method: as issued
    UNIQUE (host_id, year, kind, number),
    CONSTRAINT credit_note_references_receipt CHECK (
        (kind = 'receipt') = (credits_receipt_id IS NULL))
);
CREATE UNIQUE INDEX receipts_one_per_order ON receipts (order_id) WHERE kind = 'receipt';
CREATE UNIQUE INDEX credit_notes_one_per_refund ON receipts (order_id, refund_key)
    WHERE kind = 'credit_note';
CREATE INDEX receipts_by_event ON receipts (event_id, issued_at);
