-- Issue 10. Every published payment event carries a per-payment sequence number, moved in the
-- same transaction as the outbox row (under the payment's row lock).
ALTER TABLE payments ADD COLUMN event_sequence bigint NOT NULL DEFAULT 0;

-- A declined attempt (`denied`) is open: the buyer may retry the order in Snap.
DROP INDEX payments_open;
CREATE INDEX payments_open ON payments (updated_at)
    WHERE status IN ('created', 'pending', 'challenge', 'denied', 'captured');
DROP INDEX payments_closing;
CREATE INDEX payments_closing ON payments (close_requested_at)
    WHERE close_requested_at IS NOT NULL
      AND status IN ('created', 'pending', 'challenge', 'denied');

-- Invalid notification bodies beyond the per-minute budget are not stored, only counted here.
CREATE TABLE notifications_dropped (
    minute  timestamptz NOT NULL,
    verdict text NOT NULL,
    dropped bigint NOT NULL,
    PRIMARY KEY (minute, verdict)
);
