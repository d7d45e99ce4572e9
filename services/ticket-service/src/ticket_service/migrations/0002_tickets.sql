-- Tickets. Corrections to the seed's table: a `pending` status for unpaid holds; attendance
-- codes unique per event (a global 4-character space runs out) from a look-alike-free
-- alphabet; no users table (user ids are JWT subjects); money as integer rupiah.
CREATE TABLE tickets (
    id               uuid PRIMARY KEY,
    user_id          text NOT NULL,
    event_id         text NOT NULL REFERENCES ticketed_events (event_id),
    attendance_code  varchar(4) NOT NULL CHECK (attendance_code ~ '^[2-9A-HJKMNP-Z]{4}$'),
    price_paid       bigint NOT NULL CHECK (price_paid >= 0),
    currency         text NOT NULL DEFAULT 'IDR',
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'active', 'cancelled', 'refunded', 'expired')),
    holder_name      text NOT NULL,
    holder_email     text NOT NULL,
    holder_phone     text,
    purchased_at     timestamptz NOT NULL DEFAULT now(),
    hold_expires_at  timestamptz,
    activated_at     timestamptz,
    expired_at       timestamptz,
    refunded_at      timestamptz,
    is_checked_in    boolean NOT NULL DEFAULT false,
    checked_in_at    timestamptz,
    checked_in_by    text,
    cancelled_at     timestamptz,
    cancelled_by     text,
    cancel_reason    text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT attendance_code_unique_per_event UNIQUE (event_id, attendance_code),
    CONSTRAINT pending_has_hold CHECK (status <> 'pending' OR hold_expires_at IS NOT NULL)
);
CREATE INDEX tickets_by_user ON tickets (user_id, created_at DESC, id DESC);
CREATE INDEX tickets_by_event ON tickets (event_id, status);
CREATE INDEX tickets_by_user_event ON tickets (user_id, event_id) WHERE status IN ('pending', 'active');
CREATE INDEX tickets_holds_to_expire ON tickets (hold_expires_at) WHERE status = 'pending';
