-- Issue 13: a sold-out answer from memory. Each ticket-service process remembers an event it
-- found full for a second and refuses its next buyers without a round trip. The waiting list's
-- triggers (0050) already fire whenever seats come back, by whatever path freed them; their
-- function (named for its first use) now also NOTIFYs `event_seats_back` for the event's own
-- counters, after the commit, and every process forgets the event at once.
CREATE OR REPLACE FUNCTION waitlist_seats_came_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'ticketed_events' THEN
        PERFORM pg_notify('event_seats_back', NEW.event_id);
    END IF;
    IF EXISTS (SELECT 1 FROM waitlist_entries w
                WHERE w.event_id = NEW.event_id AND w.status = 'waiting') THEN
        PERFORM pg_notify('waitlist_seats', NEW.event_id);
    END IF;
    RETURN NULL;
END $$;
