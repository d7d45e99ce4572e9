-- Idempotency-Key of POST /tickets/purchase: per user, the first answer is kept and replayed.
CREATE TABLE purchase_requests (
    user_id          text NOT NULL,
    idempotency_key  text NOT NULL CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    request_hash     text NOT NULL,
    ticket_id        uuid REFERENCES tickets (id) ON DELETE CASCADE,
    response_status  integer,
    response_body    jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, idempotency_key)
);
CREATE INDEX purchase_requests_age ON purchase_requests (created_at);
