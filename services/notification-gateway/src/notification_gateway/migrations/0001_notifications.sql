-- What each person was told: one row per (event, recipient), listed by GET /notifications.
CREATE TABLE notifications (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL,
    event_type  text NOT NULL,
    user_id     text NOT NULL,
    audience    text NOT NULL CHECK (audience IN ('holder', 'host')),
    language    text NOT NULL CHECK (language IN ('id', 'en')),
    title       text NOT NULL,
    body        text NOT NULL,
    data        jsonb NOT NULL,          -- public: ids and facts for the app (strings)
    payload     jsonb NOT NULL,          -- the event payload, to render the e-mail at send time
    occurred_at timestamptz NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (event_id, user_id)
);
CREATE INDEX notifications_by_user ON notifications (user_id, id DESC);

-- The delivery log: one row per (event, channel, target); a redelivered event adds none.
CREATE TABLE deliveries (
    id              bigserial PRIMARY KEY,
    notification_id bigint NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    event_id        uuid NOT NULL,
    channel         text NOT NULL CHECK (channel IN ('email', 'push', 'stream')),
    target          text NOT NULL,       -- e-mail address, device token, or user id (stream)
    collapse_key    text,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    UNIQUE (event_id, channel, target)
);
CREATE UNIQUE INDEX deliveries_collapsed ON deliveries (channel, target, collapse_key)
    WHERE collapse_key IS NOT NULL;
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_notification ON deliveries (notification_id);

-- Push device tokens; a token belongs to the user who registered it last.
CREATE TABLE devices (
    token      text PRIMARY KEY,
    user_id    text NOT NULL,
    platform   text NOT NULL CHECK (platform IN ('android', 'ios', 'web')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_by_user ON devices (user_id);

CREATE TABLE preferences (
    user_id    text PRIMARY KEY,
    language   text NOT NULL CHECK (language IN ('id', 'en')),
    updated_at timestamptz NOT NULL DEFAULT now()
);
