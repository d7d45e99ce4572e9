-- Events of one transaction leave in the order they were written: now() is the transaction's
-- start, the same for every row of it, so the relay's ORDER BY created_at could not tell them
-- apart (a cancellation's refund request could be published before the cancellation).
ALTER TABLE outbox ALTER COLUMN created_at SET DEFAULT clock_timestamp();
