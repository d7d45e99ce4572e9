-- Issue 14. A payment pays for one ticket-service order of one or more tickets: the order and
-- its tickets are kept with the payment (every payment event carries them), and each refund
-- names the tickets it pays back (empty: the whole payment, as before).
ALTER TABLE payments
    ADD COLUMN purchase_order_id text,
    ADD COLUMN ticket_ids        text[] NOT NULL DEFAULT '{}';
UPDATE payments SET ticket_ids = ARRAY[ticket_id] WHERE ticket_ids = '{}';
CREATE INDEX payments_purchase_order ON payments (purchase_order_id)
    WHERE purchase_order_id IS NOT NULL;

ALTER TABLE refunds ADD COLUMN ticket_ids text[] NOT NULL DEFAULT '{}';
