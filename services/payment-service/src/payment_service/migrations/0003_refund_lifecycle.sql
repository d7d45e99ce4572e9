-- Refunds as the buyer and an admin follow them: by API (requested -> pending -> succeeded) or,
-- for methods Midtrans cannot refund, as a payout an admin makes by hand
-- (awaiting_payout -> paid_out), with the buyer's bank account and the transfer's reference.

-- The refund events use the payment's one event sequence (payments.event_sequence, 0002).
-- When the slower reconciler last asked Midtrans about a paid payment.
ALTER TABLE payments ADD COLUMN IF NOT EXISTS paid_checked_at timestamptz;

ALTER TABLE refunds DROP CONSTRAINT IF EXISTS refunds_status_check;
UPDATE refunds SET status = 'failed' WHERE status = 'refused';
ALTER TABLE refunds
    ADD COLUMN refund_id        uuid NOT NULL DEFAULT gen_random_uuid(),
    ADD COLUMN method           text NOT NULL DEFAULT 'api' CHECK (method IN ('api', 'payout')),
    ADD COLUMN bank_code        text,
    ADD COLUMN account_number   text,
    ADD COLUMN account_holder   text,
    ADD COLUMN bank_account_at  timestamptz,
    ADD COLUMN payout_reference text,
    ADD COLUMN paid_out_by      text,
    ADD COLUMN paid_out_at      timestamptz,
    ADD COLUMN sent_at          timestamptz,
    ADD COLUMN finished_at      timestamptz,
    ADD CONSTRAINT refunds_status_check CHECK (
        status IN ('requested', 'pending', 'succeeded', 'awaiting_payout', 'paid_out', 'failed')),
    ADD CONSTRAINT refunds_refund_id_key UNIQUE (refund_id);
CREATE INDEX refunds_order ON refunds (order_id, created_at);
CREATE INDEX refunds_listing ON refunds (status, created_at, refund_id);
CREATE INDEX refunds_unconfirmed ON refunds (order_id) WHERE status = 'pending';
CREATE INDEX payments_paid ON payments (paid_checked_at)
    WHERE status IN ('settled', 'partially_refunded', 'partially_charged_back');
