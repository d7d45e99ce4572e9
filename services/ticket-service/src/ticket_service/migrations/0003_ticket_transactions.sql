-- One transaction (order) per purchase. order_id is what Midtrans and payment-service know.
CREATE TABLE ticket_transactions (
    id                        uuid PRIMARY KEY,
    ticket_id                 uuid NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    user_id                   text NOT NULL,
    event_id                  text NOT NULL REFERENCES ticketed_events (event_id),
    order_id                  text NOT NULL UNIQUE CHECK (order_id ~ '^[A-Za-z0-9_~.-]{1,50}$'),
    amount                    bigint NOT NULL CHECK (amount >= 0),
    currency                  text NOT NULL DEFAULT 'IDR',
    status                    text NOT NULL DEFAULT 'pending'
                              CHECK (status IN ('pending', 'completed', 'failed', 'cancelled', 'refunded')),
    payment_method            text,          -- Midtrans payment_type, or 'free'
    payment_gateway_id        text,          -- Midtrans transaction_id
    payment_gateway_response  jsonb,         -- what payment-service answered / reported
    snap_token                text,
    redirect_url              text,
    payment_expires_at        timestamptz,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now(),
    completed_at              timestamptz,
    refund_requested_at       timestamptz    -- paid for a ticket that could not be honoured
);
CREATE INDEX ticket_transactions_by_user ON ticket_transactions (user_id, created_at DESC, id DESC);
CREATE INDEX ticket_transactions_by_ticket ON ticket_transactions (ticket_id);
CREATE INDEX ticket_transactions_by_gateway_id ON ticket_transactions (payment_gateway_id);
