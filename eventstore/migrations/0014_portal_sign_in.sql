-- The portal's sign-in (issue 12): people (0010) sign in with a single-use link sent by e-mail,
-- and a session cookie carries them from page to page. Only hashes of the secrets are kept, so a
-- copy of these tables lets nobody in. Mutable tables outside the append-only log: a sign-in is
-- not a fact of the programme.

-- A link sent by e-mail. Its secret is never stored: the relay derives it from the link's id with
-- the sign-in key (outside the database) when it writes the mail, and the portal finds the link
-- by the secret's SHA-256. The id is also the notification's in the outbox (0005), which carries
-- the mail to the relay.
CREATE TABLE sign_in_links (
    id           uuid PRIMARY KEY,
    secret_hash  bytea NOT NULL UNIQUE CHECK (length(secret_hash) = 32),
    person_id    text NOT NULL REFERENCES people (id),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,  -- set once, by the one request that starts a session with it
    CONSTRAINT sign_in_links_expire_after_creation CHECK (expires_at > created_at)
);

CREATE INDEX sign_in_links_by_person ON sign_in_links (person_id, created_at);

-- A signed-in person's session: the cookie holds the secret, this table its SHA-256. It ends at
-- the first of: sign-out (ended_at), `idle_until` passing without a request, `expires_at`.
-- The CSRF token of the session's forms is kept as given (it is no key to the session: it only
-- proves a form came from one of our pages).
CREATE TABLE web_sessions (
    secret_hash  bytea PRIMARY KEY CHECK (length(secret_hash) = 32),
    person_id    text NOT NULL REFERENCES people (id),
    link_id      uuid NOT NULL UNIQUE REFERENCES sign_in_links (id),
    csrf_token   text NOT NULL CHECK (length(csrf_token) BETWEEN 32 AND 128),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    idle_until   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);

CREATE INDEX web_sessions_by_person ON web_sessions (person_id) WHERE ended_at IS NULL;

-- Sign-in requests, counted per address and per client over a sliding window to limit them. A
-- table rather than memory so every API process counts the same requests. The address is kept
-- as its SHA-256 (lower case), so the table names nobody; rows older than the window are
-- removed by the request that finds them.
CREATE TABLE sign_in_requests (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email_hash   bytea NOT NULL CHECK (length(email_hash) = 32),
    client       text NOT NULL CHECK (length(client) BETWEEN 1 AND 100),
    at           timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX sign_in_requests_by_email ON sign_in_requests (email_hash, at);
CREATE INDEX sign_in_requests_by_client ON sign_in_requests (client, at);
CREATE INDEX sign_in_requests_by_time ON sign_in_requests (at);

-- The runtime (0008) records links and sessions, uses and ends them, and counts requests; it
-- deletes only the request counts that have aged out. It queues the sign-in mail in the outbox
-- (0005) the relay drains, which until now only the appends wrote to.
GRANT SELECT, INSERT, UPDATE (used_at) ON sign_in_links TO citycert_runtime;
GRANT SELECT, INSERT, UPDATE (last_seen_at, idle_until, ended_at) ON web_sessions TO citycert_runtime;
GRANT SELECT, INSERT, DELETE ON sign_in_requests TO citycert_runtime;
GRANT INSERT ON notification_outbox TO citycert_runtime;
