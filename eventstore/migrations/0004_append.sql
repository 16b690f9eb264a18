-- An append is this one function call: a single statement, hence a single round trip and its own
-- transaction (no BEGIN/COMMIT round trips). The caller has already checked the events, computed
-- each event's canonical body (eventstore/hashing.py) and, for a city stream, folded the
-- projection rows from the state at p_expected; they are valid only if the stream is still at
-- p_expected, which this function checks under the stream's lock before writing anything.
--
-- Locks: the stream's advisory lock, exclusively (rebuild_projections holds appends back with a
-- SHARE lock on events, which their inserts wait for). Advisory locks need no transaction id, so
-- the writer's id is assigned
-- at its first insert, after it holds the stream lock: within a stream, transaction ids rise with
-- versions, and the global log's (transaction_id, position) order is consistent with every stream.
-- Each statement of a volatile plpgsql function takes a fresh snapshot (READ COMMITTED), so the
-- head read below sees the commit of whoever held the stream lock before us.
--
-- Outcomes: 'appended' (positions in version order) or 'conflict' (actual_version says where the
-- stream is; nothing written). An id that is already recorded fails the insert on the unique
-- event_id constraint, rolling everything back. In both cases the caller looks the ids up: the same
-- batch again (an activity retry) is a replay that returns the original result, anything else a
-- typed error. Checking ids on this path and not on every append keeps the common case cheap.
--
-- No NOTIFY in here: PostgreSQL serialises the commits of notifying transactions on one lock,
-- which would undo the parallel writers; the store sends a debounced NOTIFY after commits.
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
    p_review_closed    text[]           -- criteria whose items are no longer open
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

    -- The database clock, but always after the stream's last append (even if the clock stepped
    -- back), so "as of" reads see a prefix of the stream that ends at an append's boundary.
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

    -- Projection rows are written with plain UPDATEs where the row exists (the common case: no
    -- speculative insertion, and HOT updates for city_status), inserts only for new rows.
    IF (p_status).city_id IS NOT NULL THEN  -- (a row IS NOT NULL only when all its fields are)
        UPDATE city_status s
           SET (version, phase, name, country, level, valid_until, cohort, standard_version, cycle,
                score, recommended_level, open_review_items, updated_at, state)
             = (p_expected + cardinality(p_event_ids), (p_status).phase, (p_status).name,
                (p_status).country, (p_status).level, (p_status).valid_until, (p_status).cohort,
                (p_status).standard_version, (p_status).cycle, (p_status).score,
                (p_status).recommended_level, (p_status).open_review_items, v_recorded, (p_status).state)
         WHERE s.city_id = (p_status).city_id;
        IF NOT FOUND THEN
            INSERT INTO city_status
            SELECT (p_status).city_id, p_stream_id, p_expected + cardinality(p_event_ids), (p_status).phase,
                   (p_status).name, (p_status).country, (p_status).level, (p_status).valid_until,
                   (p_status).cohort, (p_status).standard_version, (p_status).cycle, (p_status).score,
                   (p_status).recommended_level, (p_status).open_review_items, v_recorded, (p_status).state;
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
               SET (cohort, reviewer_id, status, waiting_on, due_at, escalated)
                 = (r.cohort, r.reviewer_id, r.status, r.waiting_on, r.due_at, r.escalated)
              FROM unnest(p_review_changed) r
             WHERE q.city_id = r.city_id AND q.criterion_id = r.criterion_id;
        END IF;
        IF cardinality(p_review_new) > 0 THEN
            -- ON CONFLICT: a row left behind by hand must not block the append (verify reports it).
            INSERT INTO review_queue SELECT * FROM unnest(p_review_new)
            ON CONFLICT (city_id, criterion_id) DO UPDATE SET
                (cohort, reviewer_id, status, waiting_on, due_at, escalated)
              = (EXCLUDED.cohort, EXCLUDED.reviewer_id, EXCLUDED.status, EXCLUDED.waiting_on,
                 EXCLUDED.due_at, EXCLUDED.escalated);
        END IF;
    END IF;

    outcome := 'appended';
    RETURN NEXT;
END
$$;
