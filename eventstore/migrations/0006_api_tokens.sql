-- Bearer tokens of the HTTP API. Only the SHA-256 of a token is stored: the secret is shown once,
-- when it is created (citycert/tokens.py), and a stolen copy of this table authenticates nobody.
-- A city token is bound to its city; a reviewer token to the reviewer's home city (conflict of
-- interest: a reviewer never reviews it). The reviewer id is the token's name (else its id).
CREATE TABLE api_tokens (
    id          text PRIMARY KEY,  -- public handle, for listing and revoking; not a secret
    token_hash  bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    role        text NOT NULL CHECK (role IN ('city', 'reviewer', 'committee', 'operator')),
    city_id     text,
    name        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz,
    CONSTRAINT api_tokens_city_binding CHECK ((role IN ('city', 'reviewer')) = (city_id IS NOT NULL))
);
