-- The people who use citycert (issue 10): personal data, so a mutable table outside the
-- append-only log. Events name people by id only; erasing a person (app/people.py) clears the
-- name, e-mail and language here and keeps the id, role and city, so a reference from history
-- still resolves, to "an erased person", and no hash chain is touched.
CREATE TABLE people (
    id              text PRIMARY KEY CHECK (id ~ '^per_[0-9a-f]{16}$'),
    role            text NOT NULL CHECK (role IN ('city', 'reviewer', 'committee', 'operator')),
    city_id         text,  -- city staff's city, a reviewer's home city
    name            text CHECK (length(name) BETWEEN 1 AND 200),
    email           text CHECK (length(email) BETWEEN 3 AND 254),
    language        text CHECK (language IN ('en', 'es', 'pt')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    deactivated_at  timestamptz,
    erased_at       timestamptz,
    CONSTRAINT people_city_binding CHECK ((role IN ('city', 'reviewer')) = (city_id IS NOT NULL)),
    -- A person has all of their details until erased, and none after.
    CONSTRAINT people_details CHECK (
        (erased_at IS NULL) = (name IS NOT NULL AND email IS NOT NULL AND language IS NOT NULL)
        AND (erased_at IS NULL OR (name IS NULL AND email IS NULL AND language IS NULL))
    ),
    CONSTRAINT people_erased_are_inactive CHECK (erased_at IS NULL OR deactivated_at IS NOT NULL)
);

-- One active person per e-mail address, whatever its case.
CREATE UNIQUE INDEX people_active_email ON people (lower(email)) WHERE deactivated_at IS NULL;
-- A city's contacts, a role's people.
CREATE INDEX people_by_city ON people (city_id, role) WHERE city_id IS NOT NULL;
CREATE INDEX people_by_role ON people (role, created_at, id);

-- The runtime (0008) adds, changes, deactivates and erases people; nobody but the owner deletes a
-- row, so an id that history names always resolves.
GRANT SELECT, INSERT, UPDATE (name, email, language, deactivated_at, erased_at) ON people TO citycert_runtime;
