-- eventstore_append with fewer statements and plans that read by key (issue 13, PostgreSQL's CPU
-- per appended event). Same signature, arguments, results, locks, checks, rows and hash chain as
-- 0018, so `verify` passes on rows either wrote; only how the function's statements are made:
--
-- - The status row's UPDATE is a CTE of the events' INSERT: one statement fewer on every append
--   of a city (each statement through SPI revalidates its plan, takes a snapshot and starts and
--   ends an executor that locks and opens the table and its indexes). The INSERT of a city's first
--   status row stays its own statement, run only when the UPDATE found none; the stream lock keeps
--   every other append of the city out in between.
-- - The review rows that changed are matched within the status's city: every review row an
--   append writes is that city's (the projector's, readmodel/projector.py, and the DELETE of
--   closed criteria already assumed it). Joined on (city_id, criterion_id) alone, the generic plan
--   PostgreSQL settles on after five calls in a connection was a hash join over a sequential scan
--   of review_queue whenever its statistics said the table was small (a young store, every
--   bench), so every such append read the whole queue.
-- - The hash chain's array is filled in place instead of copied for each event.
--
-- Kept, measured (the README's event-store section): the stream lock as its own statement (the
-- head must be read by a later statement, whose snapshot is taken after the lock); the review
-- rows, certifications, snapshots and outbox as statements run only when their argument has rows
-- (all of them as CTEs of one statement cost more: every CTE's executor is started on every
-- append, rows or none); SECURITY DEFINER with its fixed search_path (0008), whose per-call
-- setting was not measurable, and without which a caller's search_path would pick the functions
-- and operators the definer's rights run.

CREATE OR REPLACE FUNCTION eventstore_append(
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
    v_hashes     bytea[];
    v_updated    bigint;
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
        v_hashes[i] := v_previous;  -- in place: the array variable is expanded, not copied per event
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
    ), status_updated AS (
        -- The status row in the events' statement (one SPI statement and executor fewer per
        -- append); the INSERT below runs only for a city that has no row yet.
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
         WHERE (p_status).city_id IS NOT NULL AND s.city_id = (p_status).city_id
        RETURNING 1
    )
    SELECT (SELECT array_agg(i.position ORDER BY i.version) FROM inserted i),
           (SELECT count(*) FROM status_updated)
      INTO positions, v_updated;

    IF (p_status).city_id IS NOT NULL THEN
        IF v_updated = 0 THEN
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
             -- Every review row of an append is the status's city's (as the DELETE above assumes);
             -- saying so lets every plan read the city's rows by the primary key. Joined on
             -- (city_id, criterion_id) alone, a generic plan made while review_queue was small
             -- (a young store, the bench) hashed the rows and scanned the whole table per append.
             WHERE q.city_id = (p_status).city_id AND q.city_id = r.city_id AND q.criterion_id = r.criterion_id;
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
    -- As 0018. CREATE OR REPLACE keeps the owner and the grants but not SECURITY DEFINER or the
    -- SET clause, which are set again here, in the migration's transaction, before anyone can
    -- call the new body.
    EXECUTE format('GRANT CREATE ON SCHEMA %I TO citycert_writer', s);
    EXECUTE format('ALTER FUNCTION %s OWNER TO citycert_writer', append_full);
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %s', append_full,
                   format('pg_catalog, %I, pg_temp', s));
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', append_full);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO citycert_runtime', append_full);
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM citycert_writer', s);
END
$grants$;
