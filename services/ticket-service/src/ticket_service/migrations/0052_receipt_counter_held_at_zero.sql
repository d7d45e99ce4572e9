-- A late payment locks its host's receipt counter before the event's row, as every payment
-- does (the receipt, then the seat); for a host's first receipt of the year that lock makes
-- the counter at 0: no number taken yet. The next receipt is still number 1.
ALTER TABLE receipt_counters DROP CONSTRAINT receipt_counters_last_number_check;
ALTER TABLE receipt_counters ADD CONSTRAINT receipt_counters_last_number_check
    CHECK (last_number >= 0);
