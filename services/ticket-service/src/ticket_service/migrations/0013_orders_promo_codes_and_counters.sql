-- Issue 14, ticket-service: what orders need besides 0012. Per-event order size, promo codes and
-- their uses, a ticket's own refund request, Idempotency-Keys that name an order, and the type and
-- quota counters kept in step with every ticket status change.

ALTER TABLE ticketed_events
    ADD COLUMN max_per_order integer CHECK (max_per_order IS NULL OR max_per_order BETWEEN 1 AND 100);

-- A ticket's own refund request (one ticket of a paid order cancelled), and its type's price at
-- the hold (price_paid is that less the ticket's share of the order's discount).
ALTER TABLE tickets ADD COLUMN refund_requested_at timestamptz, ADD COLUMN list_price bigint;
-- `order.activated` is written once, when the order's last held ticket turned active.
ALTER TABLE orders ADD COLUMN announced_at timestamptz;
CREATE INDEX ticket_transactions_by_order ON ticket_transactions (purchase_order_id);
ALTER TABLE purchase_requests
    ADD COLUMN purchase_order_id uuid REFERENCES orders (id) ON DELETE CASCADE;

CREATE TABLE promo_codes (
    event_id           text NOT NULL REFERENCES ticketed_events (event_id),
    code               text NOT NULL CHECK (code ~ '^[A-Z0-9_-]{1,40}$'),   -- upper-cased
    percent_off        integer CHECK (percent_off BETWEEN 1 AND 100),
    amount_off         bigint CHECK (amount_off > 0),
    max_uses           integer CHECK (max_uses IS NULL OR max_uses >= 0),
    max_uses_per_user  integer CHECK (max_uses_per_user IS NULL OR max_uses_per_user >= 1),
    valid_from         timestamptz,
    valid_until        timestamptz,
    ticket_type_ids    text[] NOT NULL DEFAULT '{}',   -- empty: every type of the event
    uses               integer NOT NULL DEFAULT 0 CHECK (uses >= 0),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event_id, code),
    CONSTRAINT one_kind_of_discount CHECK ((percent_off IS NULL) <> (amount_off IS NULL)),
    CONSTRAINT uses_within_max CHECK (max_uses IS NULL OR uses <= max_uses)
);

-- One use per order; `released_at` when the hold expired or the order was cancelled.
CREATE TABLE promo_code_uses (
    purchase_order_id  uuid PRIMARY KEY REFERENCES orders (id),
    event_id           text NOT NULL,
    code               text NOT NULL,
    buyer_id           text NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    released_at        timestamptz,
    FOREIGN KEY (event_id, code) REFERENCES promo_codes (event_id, code)
);
CREATE INDEX promo_code_uses_by_buyer ON promo_code_uses (event_id, code, buyer_id)
    WHERE released_at IS NULL;

-- Every event has its default type ('default'), which follows the event's price and sale window:
-- an event made as before sells exactly as before.
CREATE FUNCTION ticket_default_type() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO ticket_types (event_id, id, name, price, sales_start, sales_end)
        VALUES (NEW.event_id, 'default', 'Reguler', NEW.price, NEW.sales_start, NEW.sales_end)
        ON CONFLICT DO NOTHING;
    ELSE
        UPDATE ticket_types
           SET price = NEW.price, sales_start = NEW.sales_start, sales_end = NEW.sales_end,
               updated_at = now()
         WHERE event_id = NEW.event_id AND id = 'default';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER ticketed_events_default_type AFTER INSERT ON ticketed_events
    FOR EACH ROW EXECUTE FUNCTION ticket_default_type();
CREATE TRIGGER ticketed_events_default_type_terms
    AFTER UPDATE OF price, sales_start, sales_end ON ticketed_events
    FOR EACH ROW EXECUTE FUNCTION ticket_default_type();

-- The event's counters move in the code that moves a ticket (under the event's row lock); the
-- type's and its quotas' follow here, at commit, so every path (sweeper, payments, door,
-- cancellation) keeps them right and every transaction takes the event's lock before them.
-- A held ticket counts in `held`, an active one in `sold`, any other in neither. The order's
-- status follows its tickets, and an order that ends with no live ticket gives its promo use back.
CREATE FUNCTION ticket_status_moved() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    held_delta integer := (NEW.status = 'pending')::int - (OLD.status = 'pending')::int;
    sold_delta integer := (NEW.status = 'active')::int - (OLD.status = 'active')::int;
    current_status text;
    live integer;
    new_status text;
BEGIN
    IF NEW.ticket_type_id IS NOT NULL AND (held_delta <> 0 OR sold_delta <> 0) THEN
        UPDATE ticket_types
           SET held = held + held_delta, sold = sold + sold_delta, updated_at = now()
         WHERE event_id = NEW.event_id AND id = NEW.ticket_type_id;
        UPDATE quotas q
           SET held = held + held_delta, sold = sold + sold_delta, updated_at = now()
          FROM quota_ticket_types qt
         WHERE qt.event_id = NEW.event_id AND qt.ticket_type_id = NEW.ticket_type_id
           AND q.event_id = qt.event_id AND q.id = qt.quota_id;
    END IF;
    IF NEW.purchase_order_id IS NOT NULL THEN
        SELECT o.status INTO current_status FROM orders o WHERE o.id = NEW.purchase_order_id;
        SELECT count(*) FILTER (WHERE status IN ('pending', 'active')) INTO live
          FROM tickets WHERE purchase_order_id = NEW.purchase_order_id;
        IF EXISTS (SELECT 1 FROM tickets
                    WHERE purchase_order_id = NEW.purchase_order_id AND status = 'active') THEN
            new_status := 'paid';
        ELSIF live > 0 THEN
            new_status := current_status;
        ELSIF current_status = 'pending' THEN
            new_status := CASE WHEN EXISTS (SELECT 1 FROM tickets
                                             WHERE purchase_order_id = NEW.purchase_order_id
                                               AND status = 'expired')
                               THEN 'expired' ELSE 'cancelled' END;
        ELSIF current_status = 'paid' THEN
            new_status := CASE WHEN NOT EXISTS (SELECT 1 FROM tickets
                                                 WHERE purchase_order_id = NEW.purchase_order_id
                                                   AND status <> 'refunded')
                               THEN 'refunded' ELSE 'cancelled' END;
        ELSE
            new_status := current_status;
        END IF;
        IF new_status IS DISTINCT FROM current_status THEN
            UPDATE orders
               SET status = new_status, updated_at = now(),
                   paid_at = CASE WHEN new_status = 'paid' THEN COALESCE(paid_at, now())
                                  ELSE paid_at END,
                   cancelled_at = CASE WHEN new_status IN ('cancelled', 'expired', 'refunded')
                                       THEN COALESCE(cancelled_at, now()) ELSE cancelled_at END
             WHERE id = NEW.purchase_order_id;
        END IF;
        IF live = 0 THEN
            WITH released AS (
                UPDATE promo_code_uses SET released_at = now()
                 WHERE purchase_order_id = NEW.purchase_order_id AND released_at IS NULL
             RETURNING event_id, code)
            UPDATE promo_codes p SET uses = uses - 1, updated_at = now()
              FROM released r WHERE p.event_id = r.event_id AND p.code = r.code;
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER tickets_status_moved AFTER UPDATE OF status ON tickets
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION ticket_status_moved();
