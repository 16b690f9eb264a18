-- Appends store what changed (issue 13). Until now every append rewrote the city's whole folded
-- state (city_status.state, 2.7-5 KB of jsonb, TOASTed) for about 440 B of event data; the state
-- was there only for the next append to fold onto, and the cache in the writer's process holds it
-- anyway.
--
-- 1. state_snapshots: a city's folded state at some versions of its stream, written by the append
--    whose events reach such a version (the read model's projector says which: every N events and
--    at a cycle's boundaries, readmodel/projector.py). A store that has not the city's state cached
--    reads the latest snapshot at or below the version it appends after and folds the few events
--    after it. Derived data like the other projections: rebuild refills it, verify checks each row
--    against a fold of the stream up to the row's version.
-- 2. city_status.state is dropped. What was read from it besides the next fold, the certification
--    held and the ones that ended (the public directory), becomes two small jsonb columns, written
--    from the events like the other columns.
-- 3. eventstore_append writes the snapshots (a new argument, so a new signature): dropped and
--    created again, handed to citycert_writer with SECURITY DEFINER, its fixed search_path and its
--    grants as 0008 did (a new function has none of them). The argument has a default, so the
--    projection-less overload of 0007, which passes the arguments before it, calls the new one
--    unchanged.
--
-- Existing cities keep a snapshot: their stored state becomes the snapshot at their row's version,
-- so an upgraded store folds only what is appended after it. A city whose state could not be read
-- (written by much older code) has none, and its store folds its stream from the first event.

CREATE TABLE state_snapshots (
    city_id  text NOT NULL,
    version  bigint NOT NULL,  -- the stream's version the state is folded to
    state    jsonb NOT NULL,   -- CityState's JSON, defaults left out
    PRIMARY KEY (city_id, version)
);

ALTER TABLE city_status
    ADD COLUMN certification jsonb,  -- the certification held (domain Certification), or NULL
    ADD COLUMN ended_certifications jsonb NOT NULL DEFAULT '[]';

INSERT INTO state_snapshots (city_id, version, state)
SELECT city_id, version, state FROM city_status WHERE jsonb_typeof(state) = 'object';

UPDATE city_status
   SET certification = CASE WHEN jsonb_typeof(state -> 'certification') = 'object'
                            THEN state -> 'certification' END,
       ended_certifications = CASE WHEN jsonb_typeof(state -> 'ended_certifications') = 'array'
                                   THEN state -> 'ended_certifications' ELSE '[]' END;

DROP FUNCTION eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], text[],
                                text[], text[], jsonb[], bytea[], city_status, certifications[],
                                review_queue[], review_queue[], text[], notification_outbox[]);

ALTER TABLE city_status DROP COLUMN state;

-- As in 0013 (see 0004 for locks, outcomes and idempotency), without the state and with the
-- snapshots.
CREATE FUNCTION eventstore_append(
    p_stream_id        text,
    p_expected         bigint,
    p_event_ids        uuid[],
    p_types            text[],
    p_schema_versions  integer[],
    p_occurred_at      timestamptz[],
    p_actor_roles      text[],
    p_actor_ids        text[],
    p_workflow_ids     text[],
    p_run_ids          text[],
    p_data             jsonb[],
    p_bodies           bytea[],
    p_status           city_status,     -- the city's new status row (NULL: no projections);
                                        -- its version and updated_at are set here
    p_certifications   certifications[], -- decisions among the new events
    p_review_new       review_queue[],  -- review items that became open
    p_review_changed   review_queue[],  -- open review items that changed
    p_review_closed    text[],          -- criteria whose items are no longer open
    p_notifications    notification_outbox[],  -- caused by the new events; created_at is set here
    p_snapshots        state_snapshots[] DEFAULT '{}'  -- states at versions among the new events
)
RETURNS TABLE (outcome text, actual_version bigint, positions bigint[])
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
DECLARE
    head         record;
    v_recorded   timestamptz;
    v_stamp      bytea;
    v_previous   bytea;
    v_hashes     bytea[] := '{}';
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended(p_stream_id, 0));

    SELECT e.version, e.hash, e.recorded_at INTO head
      FROM events e WHERE e.stream_id = p_stream_id ORDER BY e.version DESC LIMIT 1;
    actual_version := coalesce(head.version, 0);
    IF actual_version <> p_expected THEN
        outcome := 'conflict';
        RETURN NEXT;
        RETURN;
    END IF;

    v_recorded := greatest(clock_timestamp(), head.recorded_at + interval '1 microsecond');
    v_stamp := convert_to(to_char(v_recorded AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') || '+00:00', 'UTF8');
    v_previous := coalesce(head.hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    FOR i IN 1 .. cardinality(p_bodies) LOOP
        v_previous := sha256(v_previous || p_bodies[i] || v_stamp);
        v_hashes := v_hashes || v_previous;
    END LOOP;

    WITH inserted AS (
        INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, recorded_at,
                            actor_role, actor_id, workflow_id, run_id, data, hash)
        SELECT e.event_id, p_stream_id, p_expected + e.n, e.type, e.schema_version, e.occurred_at, v_recorded,
               e.actor_role, e.actor_id, e.workflow_id, e.run_id, e.data, v_hashes[e.n]
          FROM unnest(p_event_ids, p_types, p_schema_versions, p_occurred_at, p_actor_roles, p_actor_ids,
                      p_workflow_ids, p_run_ids, p_data)
               WITH ORDINALITY AS e(event_id, type, schema_version, occurred_at, actor_role, actor_id,
                                    workflow_id, run_id, data, n)
         ORDER BY e.n
        RETURNING position, version
    )
    SELECT array_agg(i.position ORDER BY i.version) INTO positions FROM inserted i;

    IF (p_status).city_id IS NOT NULL THEN
        UPDATE city_status s
           SET (version, phase, name, country, level, valid_until, round_id, standard_version, cycle,
                score, recommended_level, open_review_items, updated_at, reminders_sent, region,
                certificate_number, certificate_status, valid_from, certification, ended_certifications)
             = (p_expected + cardinality(p_event_ids), (p_status).phase, (p_status).name,
                (p_status).country, (p_status).level, (p_status).valid_until, (p_status).round_id,
                (p_status).standard_version, (p_status).cycle, (p_status).score,
                (p_status).recommended_level, (p_status).open_review_items, v_recorded,
                (p_status).reminders_sent, (p_status).region, (p_status).certificate_number,
                (p_status).certificate_status, (p_status).valid_from, (p_status).certification,
                (p_status).ended_certifications)
         WHERE s.city_id = (p_status).city_id;
        IF NOT FOUND THEN
            INSERT INTO city_status (city_id, stream_id, version, phase, name, country, level, valid_until,
                                     round_id, standard_version, cycle, score, recommended_level,
                                     open_review_items, updated_at, reminders_sent, region,
                                     certificate_number, certificate_status, valid_from, certification,
                                     ended_certifications)
            SELECT (p_status).city_id, p_stream_id, p_expected + cardinality(p_event_ids), (p_status).phase,
                   (p_status).name, (p_status).country, (p_status).level, (p_status).valid_until,
                   (p_status).round_id, (p_status).standard_version, (p_status).cycle, (p_status).score,
                   (p_status).recommended_level, (p_status).open_review_items, v_recorded,
                   (p_status).reminders_sent, (p_status).region, (p_status).certificate_number,
                   (p_status).certificate_status, (p_status).valid_from, (p_status).certification,
                   (p_status).ended_certifications;
        END IF;

        IF cardinality(p_certifications) > 0 THEN
            INSERT INTO certifications SELECT * FROM unnest(p_certifications);
        END IF;

        IF cardinality(p_review_closed) > 0 THEN
            DELETE FROM review_queue q
             WHERE q.city_id = (p_status).city_id AND q.criterion_id = ANY (p_review_closed);
        END IF;
        IF cardinality(p_review_changed) > 0 THEN
            UPDATE review_queue q
               SET (round_id, reviewer_id, status, waiting_on, due_at, escalated)
                 = (r.round_id, r.reviewer_id, r.status, r.waiting_on, r.due_at, r.escalated)
              FROM unnest(p_review_changed) r
             WHERE q.city_id = r.city_id AND q.criterion_id = r.criterion_id;
        END IF;
        IF cardinality(p_review_new) > 0 THEN
            INSERT INTO review_queue SELECT * FROM unnest(p_review_new)
            ON CONFLICT (city_id, criterion_id) DO UPDATE SET
                (round_id, reviewer_id, status, waiting_on, due_at, escalated)
              = (EXCLUDED.round_id, EXCLUDED.reviewer_id, EXCLUDED.status, EXCLUDED.waiting_on,
                 EXCLUDED.due_at, EXCLUDED.escalated);
        END IF;

        -- No ON CONFLICT: a snapshot is at a version this append records, so a row already there
        -- means the snapshots and the log disagree, and the append must not hide it.
        IF cardinality(p_snapshots) > 0 THEN
            INSERT INTO state_snapshots (city_id, version, state)
            SELECT n.city_id, n.version, n.state FROM unnest(p_snapshots) n;
        END IF;
    END IF;

    -- No ON CONFLICT: the key is a new event's id, so a row already there means the outbox and the
    -- log disagree, and the append must not hide it.
    IF cardinality(p_notifications) > 0 THEN
        INSERT INTO notification_outbox (event_id, city_id, kind, payload, created_at)
        SELECT n.event_id, n.city_id, n.kind, n.payload, v_recorded FROM unnest(p_notifications) n;
    END IF;

    outcome := 'appended';
    RETURN NEXT;
END
$$;

DO $grants$
DECLARE
    s text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = 'events'::regclass);
    append_full text := 'eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], '
                        'text[], text[], text[], jsonb[], bytea[], city_status, certifications[], review_queue[], '
                        'review_queue[], text[], notification_outbox[], state_snapshots[])';
BEGIN
    -- What the append writes of the new table, and what rebuild and the runtime's reads need.
    GRANT SELECT, INSERT ON state_snapshots TO citycert_writer;
    GRANT SELECT, INSERT, TRUNCATE ON state_snapshots TO citycert_runtime;

    -- As 0008: the new owner needs CREATE on the schema while ownership passes, and keeps none.
    EXECUTE format('GRANT CREATE ON SCHEMA %I TO citycert_writer', s);
    EXECUTE format('ALTER FUNCTION %s OWNER TO citycert_writer', append_full);
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %s', append_full,
                   format('pg_catalog, %I, pg_temp', s));
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', append_full);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO citycert_runtime', append_full);
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM citycert_writer', s);
END
$grants$;
