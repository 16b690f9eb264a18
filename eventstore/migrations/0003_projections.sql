-- Read models maintained inline by append (same transaction) and rebuilt from the log by
-- rebuild_projections(). Derived data: verify compares them with a fresh fold.

-- One row per city: columns for queries, the folded state for the next append's fold.
CREATE TABLE city_status (
    city_id            text PRIMARY KEY,
    stream_id          text NOT NULL,
    version            bigint NOT NULL,
    phase              text NOT NULL,
    name               text NOT NULL,
    country            text NOT NULL,
    level              text,
    valid_until        timestamptz,
    cohort             text,
    standard_version   text,
    cycle              integer,
    score              double precision,
    recommended_level  text,
    open_review_items  integer NOT NULL,
    updated_at         timestamptz NOT NULL,
    state              jsonb NOT NULL
) WITH (fillfactor = 50);  -- every append rewrites its city's row: room for HOT updates in place

CREATE INDEX city_status_phase ON city_status (phase);
CREATE INDEX city_status_valid_until ON city_status (valid_until) WHERE valid_until IS NOT NULL;

-- One row per final decision of a cycle (award, not certified) and per imported certification.
CREATE TABLE certifications (
    city_id           text NOT NULL,
    version           bigint NOT NULL,  -- the deciding event's version in the city's stream
    event_id          uuid NOT NULL UNIQUE,
    cycle             integer,
    cohort            text NOT NULL,
    standard_version  text NOT NULL,
    level             text,
    previous_level    text,
    outcome           text NOT NULL
        CHECK (outcome IN ('new', 'elevated', 'sustained', 'downgraded', 'not_certified', 'imported')),
    honor_roll        boolean NOT NULL,
    valid_from        timestamptz,
    valid_until       timestamptz,
    decided_at        timestamptz NOT NULL,
    PRIMARY KEY (city_id, version)
);

CREATE INDEX certifications_cohort ON certifications (cohort, level);

-- Open evidence items: waiting on a reviewer (submitted, clarification answered) or on the city
-- (clarification requested), with the date the next answer is due.
CREATE TABLE review_queue (
    city_id       text NOT NULL,
    criterion_id  text NOT NULL,
    cohort        text NOT NULL,
    reviewer_id   text,
    status        text NOT NULL,
    waiting_on    text NOT NULL CHECK (waiting_on IN ('reviewer', 'city')),
    due_at        timestamptz,
    escalated     boolean NOT NULL,
    PRIMARY KEY (city_id, criterion_id)
);

CREATE INDEX review_queue_reviewer ON review_queue (reviewer_id, due_at);
