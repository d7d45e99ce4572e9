-- Payments: one row per order, its current state. Every change to it leaves a payment_transitions row.
CREATE TABLE payments (
    order_id              text PRIMARY KEY,
    amount                bigint NOT NULL CHECK (amount > 0),
    currency              text NOT NULL DEFAULT 'IDR',
    user_id               text NOT NULL,
    ticket_id             text NOT NULL,
    event_id              text NOT NULL,
    customer              jsonb NOT NULL,
    items                 jsonb NOT NULL,
    metadata              jsonb NOT NULL,
    expires_at            timestamptz NOT NULL,
    snap_token            text,
    redirect_url          text,
    snap_token_expires_at timestamptz,
    status                text NOT NULL DEFAULT 'created',
    transaction_status    text,
    fraud_status          text,
    payment_type          text,
    transaction_id        text,
    refunded_amount       bigint NOT NULL DEFAULT 0,
    settled_at            timestamptz,
    flagged_at            timestamptz,
    flag_reason           text,
    close_requested_at    timestamptz,
    close_attempted_at    timestamptz,
    last_checked_at       timestamptz,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_open ON payments (updated_at)
    WHERE status IN ('created', 'pending', 'challenge', 'captured');
CREATE INDEX payments_closing ON payments (close_requested_at)
    WHERE close_requested_at IS NOT NULL AND status IN ('created', 'pending', 'challenge');
CREATE INDEX payments_user ON payments (user_id);

-- Append-only history of every change to a payment, with its source and the gateway's raw answer.
CREATE TABLE payment_transitions (
    id              bigserial PRIMARY KEY,
    order_id        text NOT NULL REFERENCES payments (order_id),
    from_status     text,
    to_status       text NOT NULL,
    source          text NOT NULL CHECK (source IN ('api', 'notification', 'reconciler', 'refund', 'expiry')),
    verdict         text NOT NULL,
    reason          text,
    events          text[] NOT NULL DEFAULT '{}',
    gateway_body    jsonb,
    notification_id bigint,
    correlation_id  text,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payment_transitions_order ON payment_transitions (order_id, id);

-- Append-only log of every notification received, valid or not, with what we made of it.
CREATE TABLE notifications (
    id                 bigserial PRIMARY KEY,
    received_at        timestamptz NOT NULL DEFAULT now(),
    order_id           text,
    transaction_status text,
    signature_valid    boolean,
    verdict            text NOT NULL,
    detail             text,
    remote_addr        text,
    raw_body           text NOT NULL
);
CREATE INDEX notifications_order ON notifications (order_id, id);

-- Append-only log of every call we made to Midtrans and its raw answer (never the auth header).
CREATE TABLE gateway_calls (
    id          bigserial PRIMARY KEY,
    order_id    text,
    operation   text NOT NULL,
    source      text NOT NULL,
    http_status integer,
    error       text,
    response    jsonb,
    duration_ms double precision,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gateway_calls_order ON gateway_calls (order_id, id);

-- Refunds we asked for: the row is the intent, written before Midtrans is called; refund_key
-- makes every retry of the same request the same refund at Midtrans.
CREATE TABLE refunds (
    refund_key      text PRIMARY KEY,
    order_id        text NOT NULL REFERENCES payments (order_id),
    amount          bigint NOT NULL CHECK (amount > 0),
    reason          text NOT NULL,
    source          text NOT NULL,
    requested_by    text,
    status          text NOT NULL DEFAULT 'requested'
                    CHECK (status IN ('requested', 'succeeded', 'refused')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    gateway_body    jsonb,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_due ON refunds (next_attempt_at) WHERE status = 'requested';

-- The audit tables refuse to be rewritten.
CREATE FUNCTION refuse_audit_rewrite() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME;
END $$;
CREATE TRIGGER notifications_append_only BEFORE UPDATE OR DELETE ON notifications
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_rewrite();
CREATE TRIGGER payment_transitions_append_only BEFORE UPDATE OR DELETE ON payment_transitions
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_rewrite();
CREATE TRIGGER gateway_calls_append_only BEFORE UPDATE OR DELETE ON gateway_calls
    FOR EACH ROW EXECUTE FUNCTION refuse_audit_rewrite();
