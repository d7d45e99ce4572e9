-- Issue 13 deliverable 1 / issue 14: an order's hold in ONE statement, so its row locks live only
-- inside PostgreSQL for the few microseconds the checks and writes take.
--
-- Checks, in order: the Idempotency-Key (first use only), the event, every item's type (on
-- sale, within its max_per_order), the order's size, the buyer's per-event limit, the promo code,
-- and room in the event, each type and every quota of each type. A refusal raises
-- (SQLSTATE P0001, MESSAGE = the refusal's code, DETAIL = its JSON details), so nothing of the
-- attempt stays, the key's claim included. A sold-out answer takes no lock: the counters are
-- read first without one, and only an order that fits there goes on to lock, in a fixed order
-- (the event, its types sorted by id, their quotas sorted by id, the promo code), so orders
-- mixing types and quotas cannot deadlock.
CREATE FUNCTION hold_order(
    p_event_id text,
    p_buyer_id text,
    p_type_ids text[],
    p_quantities integer[],
    p_names text[],          -- one per ticket, in item order; NULL: the buyer's
    p_emails text[],
    p_phones text[],
    p_customer_name text,
    p_customer_email text,
    p_customer_phone text,
    p_promo_code text,       -- upper-cased, or NULL
    p_key text,              -- Idempotency-Key, or NULL
    p_fingerprint text,
    p_expected_price bigint, -- the seed's `amount`: the single item's price must equal it
    p_now timestamptz,
    p_hold_minutes double precision,
    p_default_max_per_order integer
) RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    ev record;
    ty record;
    q record;
    promo record;
    n_items integer := coalesce(array_length(p_type_ids, 1), 0);
    total_qty integer := 0;
    subtotal bigint := 0;
    applicable bigint := 0;
    v_discount bigint := 0;
    v_total bigint;
    free boolean;
    v_order uuid := gen_random_uuid();
    first_ticket uuid;
    v_ticket uuid;
    hold_ends timestamptz;
    prices bigint[] := '{}';
    type_of text[] := '{}';
    eligible bigint[];
    shares bigint[];
    i integer;
    j integer;
    k integer := 0;
    v_code text;
    alphabet constant text := '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
    constraint_name_ text;
    held_now integer;
    promo_uses integer;
    remainder bigint;
    types_sorted text[];
BEGIN
    IF p_key IS NOT NULL THEN
        INSERT INTO purchase_requests (user_id, idempotency_key, request_hash)
        VALUES (p_buyer_id, p_key, p_fingerprint)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            RETURN jsonb_build_object('outcome', 'key_taken');
        END IF;
    END IF;
    FOR i IN 1 .. n_items LOOP
        total_qty := total_qty + p_quantities[i];
    END LOOP;

    -- Without a lock: an order that cannot fit now is refused at once.
    SELECT * INTO ev FROM ticketed_events WHERE event_id = p_event_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'event_not_found' USING DETAIL = '{}';
    END IF;
    IF ev.capacity - ev.sold - ev.held < total_qty THEN
        RAISE EXCEPTION 'sold_out' USING DETAIL = jsonb_build_object(
            'capacity', ev.capacity, 'available', greatest(ev.capacity - ev.sold - ev.held, 0))::text;
    END IF;
    FOR i IN 1 .. n_items LOOP
        SELECT * INTO ty FROM ticket_types WHERE event_id = p_event_id AND id = p_type_ids[i];
        IF FOUND AND ty.capacity IS NOT NULL AND ty.capacity - ty.sold - ty.held < p_quantities[i] THEN
            RAISE EXCEPTION 'sold_out' USING DETAIL = jsonb_build_object(
                'item', i - 1, 'ticket_type_id', ty.id,
                'available', greatest(ty.capacity - ty.sold - ty.held, 0))::text;
        END IF;
    END LOOP;

    -- Locks, in the fixed order.
    SELECT * INTO ev FROM ticketed_events WHERE event_id = p_event_id FOR UPDATE;
    SELECT array_agg(id ORDER BY id) INTO types_sorted FROM (
        SELECT id FROM ticket_types
         WHERE event_id = p_event_id AND id = ANY (p_type_ids)
         ORDER BY id FOR UPDATE) locked;
    PERFORM 1 FROM quotas
      WHERE event_id = p_event_id AND id IN (
            SELECT quota_id FROM quota_ticket_types
             WHERE event_id = p_event_id AND ticket_type_id = ANY (p_type_ids))
      ORDER BY id FOR UPDATE;

    IF total_qty > coalesce(ev.max_per_order, p_default_max_per_order) THEN
        RAISE EXCEPTION 'too_many_tickets' USING DETAIL = jsonb_build_object(
            'max_per_order', coalesce(ev.max_per_order, p_default_max_per_order))::text;
    END IF;
    FOR i IN 1 .. n_items LOOP
        SELECT * INTO ty FROM ticket_types WHERE event_id = p_event_id AND id = p_type_ids[i];
        IF NOT FOUND OR ty.hidden THEN
            RAISE EXCEPTION 'ticket_type_not_found' USING DETAIL = jsonb_build_object(
                'item', i - 1, 'ticket_type_id', p_type_ids[i])::text;
        END IF;
        IF coalesce(ty.sales_start, ev.sales_start) IS NOT NULL
           AND p_now < coalesce(ty.sales_start, ev.sales_start) THEN
            RAISE EXCEPTION 'sales_not_open' USING DETAIL = jsonb_build_object(
                'item', i - 1, 'ticket_type_id', ty.id,
                'sales_start', coalesce(ty.sales_start, ev.sales_start))::text;
        END IF;
        IF p_now >= coalesce(ty.sales_end, ev.sales_end, ev.starts_at) THEN
            RAISE EXCEPTION 'sales_closed' USING DETAIL = jsonb_build_object(
                'item', i - 1, 'ticket_type_id', ty.id,
                'sales_end', coalesce(ty.sales_end, ev.sales_end, ev.starts_at))::text;
        END IF;
        IF p_quantities[i] > coalesce(ty.max_per_order, ev.max_per_order, p_default_max_per_order) THEN
            RAISE EXCEPTION 'too_many_tickets' USING DETAIL = jsonb_build_object(
                'item', i - 1, 'ticket_type_id', ty.id, 'max_per_order',
                coalesce(ty.max_per_order, ev.max_per_order, p_default_max_per_order))::text;
        END IF;
        IF p_expected_price IS NOT NULL AND p_expected_price <> ty.price THEN
            RAISE EXCEPTION 'price_mismatch' USING DETAIL = jsonb_build_object(
                'price', ty.price, 'currency', ev.currency)::text;
        END IF;
        IF ty.capacity IS NOT NULL AND ty.capacity - ty.sold - ty.held < p_quantities[i] THEN
            RAISE EXCEPTION 'sold_out' USING DETAIL = jsonb_build_object(
                'item', i - 1, 'ticket_type_id', ty.id,
                'available', greatest(ty.capacity - ty.sold - ty.held, 0))::text;
        END IF;
        subtotal := subtotal + ty.price * p_quantities[i];
        FOR j IN 1 .. p_quantities[i] LOOP
            prices := prices || ty.price;
            type_of := type_of || ty.id;
        END LOOP;
    END LOOP;
    IF ev.max_per_user IS NOT NULL THEN
        SELECT count(*) INTO held_now FROM tickets
         WHERE event_id = p_event_id AND user_id = p_buyer_id AND status IN ('pending', 'active');
        IF held_now + total_qty > ev.max_per_user THEN
            RAISE EXCEPTION 'per_user_limit_reached' USING DETAIL = jsonb_build_object(
                'max_per_user', ev.max_per_user, 'held', held_now)::text;
        END IF;
    END IF;
    IF ev.capacity - ev.sold - ev.held < total_qty THEN
        RAISE EXCEPTION 'sold_out' USING DETAIL = jsonb_build_object(
            'capacity', ev.capacity, 'available', greatest(ev.capacity - ev.sold - ev.held, 0))::text;
    END IF;
    FOR q IN
        SELECT qu.id, qu.name, qu.size, qu.sold, qu.held,
               sum(p_quantities[item.n]) AS wanted, min(item.n) AS first_item
          FROM quotas qu
          JOIN quota_ticket_types qt ON qt.event_id = qu.event_id AND qt.quota_id = qu.id
          JOIN generate_subscripts(p_type_ids, 1) AS item(n) ON p_type_ids[item.n] = qt.ticket_type_id
         WHERE qu.event_id = p_event_id
         GROUP BY qu.id, qu.name, qu.size, qu.sold, qu.held
         ORDER BY qu.id
    LOOP
        IF q.size - q.sold - q.held < q.wanted THEN
            RAISE EXCEPTION 'sold_out' USING DETAIL = jsonb_build_object(
                'item', q.first_item - 1, 'ticket_type_id', p_type_ids[q.first_item],
                'quota_id', q.id, 'available', greatest(q.size - q.sold - q.held, 0))::text;
        END IF;
    END LOOP;

    IF p_promo_code IS NOT NULL THEN
        SELECT * INTO promo FROM promo_codes
         WHERE event_id = p_event_id AND code = p_promo_code FOR UPDATE;
        IF NOT FOUND
           OR (promo.valid_from IS NOT NULL AND p_now < promo.valid_from)
           OR (promo.valid_until IS NOT NULL AND p_now >= promo.valid_until) THEN
            RAISE EXCEPTION 'invalid_promo_code' USING DETAIL = '{}';
        END IF;
        IF promo.max_uses IS NOT NULL AND promo.uses >= promo.max_uses THEN
            RAISE EXCEPTION 'promo_code_used_up' USING DETAIL = '{}';
        END IF;
        IF promo.max_uses_per_user IS NOT NULL THEN
            SELECT count(*) INTO promo_uses FROM promo_code_uses
             WHERE event_id = p_event_id AND code = p_promo_code AND buyer_id = p_buyer_id
               AND released_at IS NULL;
            IF promo_uses >= promo.max_uses_per_user THEN
                RAISE EXCEPTION 'promo_code_used_up' USING DETAIL = jsonb_build_object(
                    'max_uses_per_user', promo.max_uses_per_user)::text;
            END IF;
        END IF;
        FOR i IN 1 .. n_items LOOP
            IF cardinality(promo.ticket_type_ids) = 0 OR p_type_ids[i] = ANY (promo.ticket_type_ids) THEN
                SELECT price * p_quantities[i] + applicable INTO applicable
                  FROM ticket_types WHERE event_id = p_event_id AND id = p_type_ids[i];
            END IF;
        END LOOP;
        IF applicable = 0 AND subtotal > 0 THEN
            RAISE EXCEPTION 'promo_code_not_applicable' USING DETAIL = '{}';
        END IF;
        IF promo.percent_off IS NOT NULL THEN
            v_discount := (applicable * promo.percent_off) / 100;
        ELSE
            v_discount := least(promo.amount_off, applicable);
        END IF;
    END IF;

    v_total := subtotal - v_discount;
    free := v_total = 0;
    hold_ends := CASE WHEN free THEN NULL ELSE p_now + make_interval(secs => p_hold_minutes * 60) END;

    -- The discount's share per ticket the code applies to, proportional to its price; the
    -- rounding remainder goes to the first of them, so the shares add up to the discount.
    shares := array_fill(0::bigint, ARRAY[total_qty]);
    IF v_discount > 0 THEN
        eligible := array_fill(0::bigint, ARRAY[total_qty]);
        FOR i IN 1 .. total_qty LOOP
            IF cardinality(promo.ticket_type_ids) = 0 OR type_of[i] = ANY (promo.ticket_type_ids) THEN
                eligible[i] := prices[i];
            END IF;
        END LOOP;
        remainder := v_discount;
        FOR i IN 1 .. total_qty LOOP
            shares[i] := (v_discount * eligible[i]) / applicable;
            remainder := remainder - shares[i];
        END LOOP;
        i := 1;
        WHILE remainder > 0 LOOP
            IF shares[i] < eligible[i] THEN
                shares[i] := shares[i] + 1;
                remainder := remainder - 1;
            END IF;
            i := i % total_qty + 1;
        END LOOP;
    END IF;

    -- The counters, in the same lock order.
    UPDATE ticketed_events
       SET sold = sold + CASE WHEN free THEN total_qty ELSE 0 END,
           held = held + CASE WHEN free THEN 0 ELSE total_qty END, updated_at = p_now
     WHERE event_id = p_event_id;
    FOR i IN 1 .. n_items LOOP
        UPDATE ticket_types
           SET sold = sold + CASE WHEN free THEN p_quantities[i] ELSE 0 END,
               held = held + CASE WHEN free THEN 0 ELSE p_quantities[i] END, updated_at = p_now
         WHERE event_id = p_event_id AND id = p_type_ids[i];
        UPDATE quotas qu
           SET sold = sold + CASE WHEN free THEN p_quantities[i] ELSE 0 END,
               held = held + CASE WHEN free THEN 0 ELSE p_quantities[i] END, updated_at = p_now
          FROM quota_ticket_types qt
         WHERE qt.event_id = p_event_id AND qt.ticket_type_id = p_type_ids[i]
           AND qu.event_id = qt.event_id AND qu.id = qt.quota_id;
    END LOOP;

    INSERT INTO orders (id, event_id, buyer_id, status, total, discount, currency, promo_code,
                        customer_name, customer_email, customer_phone, hold_expires_at, paid_at,
                        created_at, updated_at)
    VALUES (v_order, p_event_id, p_buyer_id, CASE WHEN free THEN 'paid' ELSE 'pending' END,
            v_total, v_discount, ev.currency, p_promo_code, p_customer_name, p_customer_email,
            p_customer_phone, hold_ends, CASE WHEN free THEN p_now END, p_now, p_now);

    FOR i IN 1 .. n_items LOOP
        FOR j IN 1 .. p_quantities[i] LOOP
            k := k + 1;
            v_ticket := gen_random_uuid();
            LOOP
                v_code := '';
                FOR n IN 1 .. 4 LOOP
                    v_code := v_code || substr(alphabet, 1 + floor(random() * 31)::int, 1);
                END LOOP;
                BEGIN
                    INSERT INTO tickets (id, user_id, event_id, attendance_code, price_paid,
                        currency, status, holder_name, holder_email, holder_phone, purchased_at,
                        hold_expires_at, activated_at, created_at, updated_at, ticket_type_id,
                        purchase_order_id, list_price)
                    VALUES (v_ticket, p_buyer_id, p_event_id, v_code, prices[k] - shares[k],
                        ev.currency, CASE WHEN free THEN 'active' ELSE 'pending' END,
                        coalesce(p_names[k], p_customer_name),
                        coalesce(p_emails[k], p_customer_email),
                        CASE WHEN p_names[k] IS NULL THEN p_customer_phone ELSE p_phones[k] END,
                        p_now, hold_ends, CASE WHEN free THEN p_now END, p_now, p_now,
                        p_type_ids[i], v_order, prices[k]);
                    EXIT;
                EXCEPTION WHEN unique_violation THEN
                    GET STACKED DIAGNOSTICS constraint_name_ = CONSTRAINT_NAME;
                    IF constraint_name_ <> 'attendance_code_unique_per_event' THEN
                        RAISE;
                    END IF;
                END;
            END LOOP;
            IF first_ticket IS NULL THEN
                first_ticket := v_ticket;
            END IF;
        END LOOP;
    END LOOP;

    UPDATE orders SET payment_order_id = CASE WHEN free THEN NULL ELSE 'TKT-' || first_ticket END
     WHERE id = v_order;
    INSERT INTO ticket_transactions (id, ticket_id, user_id, event_id, order_id, amount, currency,
        status, payment_method, created_at, updated_at, completed_at, purchase_order_id)
    VALUES (gen_random_uuid(), first_ticket, p_buyer_id, p_event_id, 'TKT-' || first_ticket,
        v_total, ev.currency, CASE WHEN free THEN 'completed' ELSE 'pending' END,
        CASE WHEN free THEN 'free' END, p_now, p_now, CASE WHEN free THEN p_now END, v_order);

    IF p_promo_code IS NOT NULL THEN
        UPDATE promo_codes SET uses = uses + 1, updated_at = p_now
         WHERE event_id = p_event_id AND code = p_promo_code;
        INSERT INTO promo_code_uses (purchase_order_id, event_id, code, buyer_id, created_at)
        VALUES (v_order, p_event_id, p_promo_code, p_buyer_id, p_now);
    END IF;
    IF p_key IS NOT NULL THEN
        UPDATE purchase_requests SET purchase_order_id = v_order, ticket_id = first_ticket
         WHERE user_id = p_buyer_id AND idempotency_key = p_key;
    END IF;
    RETURN jsonb_build_object('outcome', 'held', 'order_id', v_order, 'free', free,
                              'first_ticket_id', first_ticket);
END $$;
