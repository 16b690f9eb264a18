-- Notifications waiting for delivery (re-certification reminders first). Written by the
-- record_events activity, keyed by the event that caused it so a retried activity queues it once;
-- a notifier drains rows whose sent_at is NULL and stamps them.
CREATE TABLE notification_outbox (
    event_id    uuid PRIMARY KEY,
    city_id     text NOT NULL,
    kind        text NOT NULL,
    payload     jsonb NOT NULL,
    created_at  timestamptz NOT NULL,
    attempts    integer NOT NULL DEFAULT 0,
    sent_at     timestamptz
);

CREATE INDEX notification_outbox_pending ON notification_outbox (created_at) WHERE sent_at IS NULL;
