-- Issue 14, the foundation the orders, door and after-sale work builds on: ticket types, quotas
-- that may overlap, and orders that hold one or more tickets and are paid in one payment.
-- Seats are counted at three levels, each with its own `sold + held <= size` check: the event
-- (ticketed_events), the ticket type (its optional capacity) and every quota holding the type.

CREATE TABLE ticket_types (
    event_id       text NOT NULL REFERENCES ticketed_events (event_id),
    id             text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),   -- chosen by the host
    name           text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    description    text CHECK (description IS NULL OR length(description) <= 2000),
    price          bigint NOT NULL CHECK (price >= 0),                    -- integer rupiah
    capacity       integer CHECK (capacity IS NULL OR (capacity > 0 AND capacity <= 100000)),
    sold           integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
    held           integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    sales_start    timestamptz,
    sales_end      timestamptz,
    max_per_order  integer CHECK (max_per_order IS NULL OR max_per_order BETWEEN 1 AND 100),
    position       integer NOT NULL DEFAULT 0,
    hidden         boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, id),
    CONSTRAINT type_seats_within_capacity CHECK (capacity IS NULL OR sold + held <= capacity),
    CONSTRAINT type_sales_window_ordered CHECK (
        sales_start IS NULL OR sales_end IS NULL OR sales_start < sales_end)
);

CREATE TABLE quotas (
    event_id    text NOT NULL REFERENCES ticketed_events (event_id),
    id          text NOT NULL CHECK (id ~ '^[A-Za-z0-9_-]{1,64}$'),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    size        integer NOT NULL CHECK (size >= 0 AND size <= 100000),
    sold        integer NOT NULL DEFAULT 0 CHECK (sold >= 0),
    held        integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, id),
    CONSTRAINT quota_seats_within_size CHECK (sold + held <= size)
);

CREATE TABLE quota_ticket_types (
    event_id        text NOT NULL,
    quota_id        text NOT NULL,
    ticket_type_id  text NOT NULL,
    PRIMARY KEY (event_id, quota_id, ticket_type_id),
    FOREIGN KEY (event_id, quota_id) REFERENCES quotas (event_id, id) ON DELETE CASCADE,
    FOREIGN KEY (event_id, ticket_type_id) REFERENCES ticket_types (event_id, id)
);
CREATE INDEX quota_ticket_types_by_type ON quota_ticket_types (event_id, ticket_type_id);

CREATE TABLE orders (
    id                uuid PRIMARY KEY,
    event_id          text NOT NULL REFERENCES ticketed_events (event_id),
    buyer_id          text NOT NULL,                     -- JWT subject of the buyer
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'paid', 'cancelled', 'expired', 'refunded')),
    total             bigint NOT NULL CHECK (total >= 0),   -- what the buyer pays
    discount          bigint NOT NULL DEFAULT 0 CHECK (discount >= 0),
    currency          text NOT NULL DEFAULT 'IDR',
    promo_code        text,                              -- as the buyer typed it, upper-cased
    payment_order_id  text UNIQUE,                       -- Midtrans order_id (NULL when free)
    customer_name     text NOT NULL,
    customer_email    text NOT NULL,
    customer_phone    text,
    hold_expires_at   timestamptz,
    paid_at           timestamptz,
    cancelled_at      timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_by_buyer ON orders (buyer_id, created_at DESC, id DESC);
CREATE INDEX orders_by_event ON orders (event_id, status);

ALTER TABLE tickets
    ADD COLUMN ticket_type_id     text,
    ADD COLUMN purchase_order_id  uuid REFERENCES orders (id),
    ADD CONSTRAINT tickets_of_a_type FOREIGN KEY (event_id, ticket_type_id)
        REFERENCES ticket_types (event_id, id);
CREATE INDEX tickets_by_order ON tickets (purchase_order_id);

ALTER TABLE ticket_transactions ADD COLUMN purchase_order_id uuid REFERENCES orders (id);

-- Every event that exists gets its default type, which holds its price and all its tickets.
INSERT INTO ticket_types (event_id, id, name, price, sold, held, sales_start, sales_end)
SELECT event_id, 'default', 'Reguler', price, sold, held, sales_start, sales_end
FROM ticketed_events;
UPDATE tickets SET ticket_type_id = 'default';
