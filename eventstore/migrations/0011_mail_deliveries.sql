-- Mail that arrives (issue 10): each queued notification (notification_outbox, written by the
-- append that records its event) becomes one delivery per recipient, a person (0012), and the
-- relay (app/relay.py) sends each, retries a temporary failure with backoff and records a
-- permanent one where operators see it (`citycert mail failures`).
--
-- notification_outbox.sent_at now says when the notification was handed to the relay: its
-- recipients were chosen and their deliveries written, in one transaction.
CREATE TABLE mail_deliveries (
    -- <event id.person id@citycert>: the same on every retry, so a receiver can tell a resend.
    message_id       text PRIMARY KEY,
    event_id         uuid NOT NULL REFERENCES notification_outbox (event_id),
    person_id        text NOT NULL REFERENCES people (id),
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('held', 'pending', 'sent', 'failed', 'skipped')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    -- A relay's lease on a delivery it is sending: another relay leaves it alone until then, so
    -- several relays never send one delivery at once.
    claimed_until    timestamptz,
    claimed_by       text,
    last_error       text,
    sent_at          timestamptz,
    created_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT mail_deliveries_once UNIQUE (event_id, person_id)
);

CREATE INDEX mail_deliveries_due ON mail_deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX mail_deliveries_failed ON mail_deliveries (created_at) WHERE status = 'failed';

-- The relay runs as the runtime role (0008): it writes deliveries and their outcome, never deletes.
GRANT SELECT, INSERT, UPDATE ON mail_deliveries TO citycert_runtime;
