-- The payload's contract version, so the e-mail is rendered with the model it was written for.
ALTER TABLE notifications ADD COLUMN event_version integer NOT NULL DEFAULT 1;
