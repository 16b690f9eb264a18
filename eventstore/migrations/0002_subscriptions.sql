-- Where each subscriber (the notifier, read models) has got to in the global log. A subscriber
-- updates its row in the same transaction as its effects, so an event is applied exactly once.
CREATE TABLE subscriptions (
    name            text PRIMARY KEY,
    transaction_id  xid8 NOT NULL DEFAULT '0',
    position        bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
