-- Issue 15, the door at scale: a host lists an event's scanners and revokes a lost or stolen
-- one. `revoked_at` (0020) already shuts its token out; now we also keep who revoked it, and when
-- each device was last heard from (any call with its token, to the minute) and last uploaded.
ALTER TABLE scanners
    ADD COLUMN revoked_by      text,
    ADD COLUMN last_seen_at    timestamptz,
    ADD COLUMN last_synced_at  timestamptz;
