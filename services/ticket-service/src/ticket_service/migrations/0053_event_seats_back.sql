-- Issue 13: a sold-out answer from memory. Each ticket-service process remembers an event it
-- found full for a second and refuses its next buyers without a round trip; this NOTIFY, sent
-- after the commit of whatever gave seats back (a hold ended, a payment failed, a cancellation,
-- a raised capacity), makes every process forget the event at once.
CREATE FUNCTION event_seats_came_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('event_seats_back', NEW.event_id);
    RETURN NULL;
END $$;

CREATE TRIGGER event_seats_came_back
    AFTER UPDATE OF sold, held, capacity ON ticketed_events
    FOR EACH ROW
    WHEN (NEW.sold + NEW.held < OLD.sold + OLD.held OR NEW.capacity > OLD.capacity)
    EXECUTE FUNCTION event_seats_came_back();
