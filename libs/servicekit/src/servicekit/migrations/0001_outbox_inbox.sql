-- The transactional outbox: events written in the same transaction as the state change they report.
CREATE TABLE outbox (
    event_id        uuid PRIMARY KEY,
    event_type      text NOT NULL,
    body            jsonb NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    sent_at         timestamptz
);
CREATE INDEX outbox_unsent ON outbox (next_attempt_at, created_at) WHERE sent_at IS NULL;

-- The inbox: one row per (consumer, event) whose effect has been committed.
CREATE TABLE inbox (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    event_type   text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
