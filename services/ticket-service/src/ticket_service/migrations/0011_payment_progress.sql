-- Issue 10: where each order's payment stands, so payment events apply by sequence, not by
-- broker order; the last payment attempt (a declined card the buyer may retry); the refund.
ALTER TABLE ticket_transactions
    ADD COLUMN payment_sequence     integer CHECK (payment_sequence >= 1),  -- highest v2 sequence applied
    ADD COLUMN payment_status       text,          -- payment-service's status at that sequence
    ADD COLUMN last_attempt_result  text CHECK (last_attempt_result IN ('declined', 'paid')),
    ADD COLUMN last_attempt_reason  text,
    ADD COLUMN last_attempt_at      timestamptz,
    ADD COLUMN refund_id            text,
    ADD COLUMN refund_amount        bigint CHECK (refund_amount >= 0),
    ADD COLUMN refund_method        text CHECK (refund_method IN ('api', 'payout')),
    ADD COLUMN refund_status        text CHECK (refund_status IN
        ('requested', 'pending', 'succeeded', 'awaiting_payout', 'paid_out', 'failed')),
    ADD COLUMN refund_reason        text,
    ADD COLUMN refund_reference     text,
    ADD COLUMN refund_updated_at    timestamptz,
    ADD COLUMN refund_sequence      integer;       -- the payment sequence of that refund update
