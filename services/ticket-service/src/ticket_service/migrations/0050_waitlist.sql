-- Issue 16, the fair waiting list. One entry per user and ticket type, first come first served
-- by joined_at (then id). Seats that come back are offered to the head of the line: an open
-- offer counts in `held` of the event, the type and every quota holding the type, exactly like
-- a purchase's hold, so no level can be oversold; accepting it turns that hold into the order's.

ALTER TABLE ticketed_events
    ADD COLUMN waitlist_offer_minutes integer NOT NULL DEFAULT 30
        CHECK (waitlist_offer_minutes BETWEEN 1 AND 1440);

CREATE TABLE waitlist_entries (
    id              uuid PRIMARY KEY,
    event_id        text NOT NULL,
    ticket_type_id  text NOT NULL,
    user_id         text NOT NULL,                     -- JWT subject
    customer_name   text NOT NULL CHECK (length(customer_name) BETWEEN 1 AND 255),
    customer_email  text NOT NULL CHECK (length(customer_email) BETWEEN 3 AND 320),
    customer_phone  text CHECK (customer_phone IS NULL OR length(customer_phone) <= 50),
    quantity        integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    status          text NOT NULL DEFAULT 'waiting'
                    CHECK (status IN ('waiting', 'offered', 'accepted', 'left', 'lapsed')),
    -- clock_timestamp, not now(): two joins in one transaction still get an order
    joined_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (event_id, ticket_type_id) REFERENCES ticket_types (event_id, id)
);
-- One place per user and type while it is live; after leaving, lapsing or buying one may rejoin
-- (at the back).
CREATE UNIQUE INDEX waitlist_one_place_per_user
    ON waitlist_entries (event_id, ticket_type_id, user_id) WHERE status IN ('waiting', 'offered');
CREATE INDEX waitlist_line
    ON waitlist_entries (event_id, ticket_type_id, joined_at, id) WHERE status = 'waiting';
CREATE INDEX waitlist_by_user ON waitlist_entries (user_id, event_id);

CREATE TABLE waitlist_offers (
    id              uuid PRIMARY KEY,
    entry_id        uuid NOT NULL REFERENCES waitlist_entries (id),
    event_id        text NOT NULL,
    ticket_type_id  text NOT NULL,
    user_id         text NOT NULL,
    seats           integer NOT NULL CHECK (seats >= 1),
    price           bigint NOT NULL CHECK (price >= 0),          -- per seat, when offered
    status          text NOT NULL DEFAULT 'open'
                    CHECK (status IN ('open', 'accepted', 'expired', 'withdrawn')),
    expires_at      timestamptz NOT NULL,
    ticket_id       uuid REFERENCES tickets (id),                -- the order's hold once accepted
    created_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    FOREIGN KEY (event_id, ticket_type_id) REFERENCES ticket_types (event_id, id)
);
CREATE UNIQUE INDEX waitlist_one_open_offer_per_entry
    ON waitlist_offers (entry_id) WHERE status = 'open';
CREATE INDEX waitlist_offers_due ON waitlist_offers (expires_at) WHERE status = 'open';
CREATE INDEX waitlist_offers_of_entry ON waitlist_offers (entry_id, created_at DESC);

-- Wake the offer maker (LISTEN waitlist_seats) when seats come back at an event with a line:
-- whichever path freed them (hold expiry, failed payment, cancellation, a raised capacity).
-- The NOTIFY is delivered after the commit, so the woken offer maker sees the freed seats.
CREATE FUNCTION waitlist_seats_came_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM waitlist_entries w
                WHERE w.event_id = NEW.event_id AND w.status = 'waiting') THEN
        PERFORM pg_notify('waitlist_seats', NEW.event_id);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER waitlist_event_seats_came_back
    AFTER UPDATE OF sold, held, capacity ON ticketed_events
    FOR EACH ROW
    WHEN (NEW.sold + NEW.held < OLD.sold + OLD.held OR NEW.capacity > OLD.capacity)
    EXECUTE FUNCTION waitlist_seats_came_back();

CREATE TRIGGER waitlist_type_seats_came_back
    AFTER UPDATE OF sold, held, capacity ON ticket_types
    FOR EACH ROW
    WHEN (NEW.sold + NEW.held < OLD.sold + OLD.held
          OR NEW.capacity IS DISTINCT FROM OLD.capacity)
    EXECUTE FUNCTION waitlist_seats_came_back();

-- The guard of general sale: while anyone waits for a type, no order takes a seat of it (the
-- seats coming back are the line's). An order's tickets are inserted under the event's row lock
-- (hold_order takes it first), the lock every offer is made under, so a seat freed now cannot
-- slip past the line. Accepting an offer sets `ticketing.waitlist_handover` for its transaction:
-- its tickets take the seats the offer already holds.
CREATE FUNCTION waitlist_guards_general_sale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF current_setting('ticketing.waitlist_handover', true) IS DISTINCT FROM 'on'
       AND EXISTS (SELECT 1 FROM waitlist_entries w
                    WHERE w.event_id = NEW.event_id AND w.ticket_type_id = NEW.ticket_type_id
                      AND w.status = 'waiting') THEN
        RAISE EXCEPTION 'sold_out' USING DETAIL = jsonb_build_object(
            'ticket_type_id', NEW.ticket_type_id, 'available', 0, 'waitlist', true)::text;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER waitlist_guards_general_sale
    BEFORE INSERT ON tickets
    FOR EACH ROW
    WHEN (NEW.purchase_order_id IS NOT NULL AND NEW.status IN ('pending', 'active'))
    EXECUTE FUNCTION waitlist_guards_general_sale();
