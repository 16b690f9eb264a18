-- Tokens speak for an identity (issue 9): the actor id the events record is the identity's subject,
-- unique per role, and a city or reviewer identity is bound to exactly one city (a reviewer's home
-- city), so two tokens can no longer name one reviewer with two home cities and slip past the
-- conflict-of-interest check. Several tokens may speak for one identity (a laptop and a CI job, a
-- rotation); they share its city because only the identity holds it.
CREATE TABLE token_identities (
    role        text NOT NULL CHECK (role IN ('city', 'reviewer', 'committee', 'operator')),
    subject     text NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    city_id     text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (role, subject),
    CONSTRAINT token_identities_city_binding CHECK ((role IN ('city', 'reviewer')) = (city_id IS NOT NULL))
);

ALTER TABLE api_tokens
    ADD COLUMN subject      text,
    ADD COLUMN expires_at   timestamptz,
    ADD COLUMN last_used_at timestamptz,  -- refreshed at most once a minute (app/tokens.py)
    ADD COLUMN replaced_by  text REFERENCES api_tokens (id);  -- set when rotated

-- A name that tokens of one role hold with different cities names nobody for sure: those tokens are
-- revoked (one of them may be the attack) and each becomes an identity of its own; the operator
-- issues the reviewer a new token.
WITH ambiguous AS (
    SELECT role, name FROM api_tokens
    WHERE name IS NOT NULL
    GROUP BY role, name
    HAVING count(DISTINCT city_id) > 1
)
UPDATE api_tokens t
SET subject = t.id, revoked_at = coalesce(t.revoked_at, now())
FROM ambiguous a
WHERE t.role = a.role AND t.name = a.name;

UPDATE api_tokens SET subject = coalesce(name, id) WHERE subject IS NULL;

-- Tokens made before expiry existed get the default lifetimes from now (7 days for operators).
UPDATE api_tokens
SET expires_at = now() + CASE WHEN role = 'operator' THEN interval '7 days' ELSE interval '90 days' END;

INSERT INTO token_identities (role, subject, city_id, created_at)
SELECT role, subject, min(city_id), min(created_at) FROM api_tokens GROUP BY role, subject;

ALTER TABLE api_tokens
    ALTER COLUMN subject SET NOT NULL,
    ALTER COLUMN expires_at SET NOT NULL,
    ADD CONSTRAINT api_tokens_identity FOREIGN KEY (role, subject) REFERENCES token_identities (role, subject),
    DROP CONSTRAINT api_tokens_city_binding,
    DROP COLUMN city_id,
    DROP COLUMN name;

CREATE INDEX api_tokens_by_identity ON api_tokens (role, subject);

-- What the runtime role (0008) needs of these: it creates identities and tokens, stamps their last
-- use, revokes and rotates them; it never deletes one, nor rewrites its hash or identity.
GRANT SELECT, INSERT ON token_identities TO citycert_runtime;
GRANT UPDATE (last_used_at, replaced_by) ON api_tokens TO citycert_runtime;
