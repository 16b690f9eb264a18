-- An append's events travel as one array of a composite type (new_event), not as ten arrays of one
-- column each (issue 13's CPU per event). The driver checks every element of every array it
-- encodes for being an array itself (asyncpg: a few abstract-class isinstance checks per element, in
-- Python): with ten column arrays that was about 140 checks per append of four events, 10 % of the
-- client's CPU per event (bench/eventstore.py under cProfile); one array of rows costs three checks
-- per event, and each row's fields are encoded by their codecs alone.
--
-- eventstore_append takes the stream, the expected version and the events, then the projector's
-- arguments as in 0015, each with a default so that an append without projections passes the
-- first three alone. Both signatures of 0015 (the projection-less overload of 0007 called the full
-- one) are dropped; the new function is handed to citycert_writer with SECURITY DEFINER, its fixed
-- search_path and its grants as 0008 and 0015 did. A projector's array argument may be NULL for
-- none (every one is read through cardinality(), NULL for NULL, or unnest), which the driver sends
-- without checking an empty array's levels. Nothing else changes: the same locks, checks,
-- hash chain (the database's recorded_at), rows and outcomes (see 0004, 0013 and 0015).

CREATE TYPE new_event AS (
    event_id        uuid,
    type            text,
    schema_version  integer,
    occurred_at     timestamptz,
    actor_role      text,
    actor_id        text,
    workflow_id     text,
    run_id          text,
    data            jsonb,
    body            bytea  -- the canonical body the hash chain covers, without recorded_at (eventstore/hashing.py)
);

DROP FUNCTION eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], text[],
                                text[], text[], jsonb[], bytea[]);
DROP FUNCTION eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], text[],
                                text[], text[], jsonb[], bytea[], city_status, certifications[],
                                review_queue[], review_queue[], text[], notification_outbox[],
                                state_snapshots[]);

CREATE FUNCTION eventstore_append(
    p_stream_id        text,
    p_expected         bigint,
    p_events           new_event[],     -- in version order
    p_status           city_status DEFAULT NULL,  -- the city's new status row (NULL: no projections);
                                                  -- its version and updated_at are set here
    p_certifications   certifications[] DEFAULT '{}',  -- decisions among the new events
    p_review_new       review_queue[] DEFAULT '{}',    -- review items that became open
    p_review_changed   review_queue[] DEFAULT '{}',    -- open review items that changed
    p_review_closed    text[] DEFAULT '{}',            -- criteria whose items are no longer open
    p_notifications    notification_outbox[] DEFAULT '{}',  -- caused by the new events; created_at is set here
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
    FOR i IN 1 .. cardinality(p_events) LOOP
        v_previous := sha256(v_previous || (p_events[i]).body || v_stamp);
        v_hashes := v_hashes || v_previous;
    END LOOP;

    WITH inserted AS (
        INSERT INTO events (event_id, stream_id, version, type, schema_version, occurred_at, recorded_at,
                            actor_role, actor_id, workflow_id, run_id, data, hash)
        SELECT e.event_id, p_stream_id, p_expected + e.n, e.type, e.schema_version, e.occurred_at, v_recorded,
               e.actor_role, e.actor_id, e.workflow_id, e.run_id, e.data, v_hashes[e.n]
          FROM unnest(p_events) WITH ORDINALITY
               AS e(event_id, type, schema_version, occurred_at, actor_role, actor_id, workflow_id, run_id,
                    data, body, n)
         ORDER BY e.n
        RETURNING position, version
    )
    SELECT array_agg(i.position ORDER BY i.version) INTO positions FROM inserted i;

    IF (p_status).city_id IS NOT NULL THEN
        UPDATE city_status s
           SET (version, phase, name, country, level, valid_until, round_id, standard_version, cycle,
                score, recommended_level, open_review_items, updated_at, reminders_sent, region,
                certificate_number, certificate_status, valid_from, certification, ended_certifications)
             = (p_expected + cardinality(p_events), (p_status).phase, (p_status).name,
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
            SELECT (p_status).city_id, p_stream_id, p_expected + cardinality(p_events), (p_status).phase,
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
    append_full text := 'eventstore_append(text, bigint, new_event[], city_status, certifications[], '
                        'review_queue[], review_queue[], text[], notification_outbox[], state_snapshots[])';
BEGIN
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
