-- Ticketed events: the events system owns the event; we own its sale (price, seats, window).
-- sold/held are the seat counters every purchase updates under the row lock, so two buyers can
-- never take the last seat twice; the CHECK is the last line of defence.
CREATE TABLE ticketed_events (
    event_id      text PRIMARY KEY,            -- the events system's id (a UUID string)
    host_id       text NOT NULL,               -- JWT subject of the host
    title         text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
    venue         text NOT NULL CHECK (length(venue) BETWEEN 1 AND 300),
    starts_at     timestamptz NOT NULL,
    price         bigint NOT NULL CHECK (price >= 0),          -- integer rupiah
    currency      text NOT NULL DEFAULT 'IDR' CHECK (currency = 'IDR'),
    capacity      integer NOT NULL CHECK (capacity > 0 AND capacity <= 100000),
    sold          integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
    held          integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    sales_start   timestamptz,
    sales_end     timestamptz,
    max_per_user  integer CHECK (max_per_user IS NULL OR max_per_user > 0),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT seats_within_capacity CHECK (sold + held <= capacity),
    CONSTRAINT sales_window_ordered CHECK (
        sales_start IS NULL OR sales_end IS NULL OR sales_start < sales_end)
);
CREATE INDEX ticketed_events_host ON ticketed_events (host_id);
