-- Reviewers' profiles (issue 11): what automatic assignment reads of a reviewer, beside their
-- person record (0010): who they work for, the practice areas they review (the standard's area
-- ids), the most open criteria they take at once, and the cities they declared conflicts with
-- ([{"city_id": ..., "reason": ...}]). Mutable, outside the log: events name reviewers by id.
-- Erasing the person clears the organisation and the conflicts (their reasons may say who).
CREATE TABLE reviewer_profiles (
    person_id       text PRIMARY KEY REFERENCES people (id),
    organisation    text CHECK (length(organisation) BETWEEN 1 AND 200),
    practice_areas  text[] NOT NULL CHECK (cardinality(practice_areas) BETWEEN 1 AND 20),
    capacity        integer NOT NULL CHECK (capacity BETWEEN 1 AND 500),
    conflicts       jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(conflicts) = 'array'),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Reviewers of an area (automatic assignment looks them up by area).
CREATE INDEX reviewer_profiles_by_area ON reviewer_profiles USING gin (practice_areas);

-- The runtime (0008) sets and changes profiles and clears them on erasure; it never deletes one.
GRANT SELECT, INSERT, UPDATE ON reviewer_profiles TO citycert_runtime;
