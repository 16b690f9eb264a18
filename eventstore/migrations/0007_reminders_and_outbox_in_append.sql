-- Three changes to the append, in one migration because each needs the function replaced:
--
-- 1. city_status.reminders_sent: the reminder thresholds already sent for the city's current
--    certification, as a column. The reminder sweep used to read them from a JSON path of the
--    folded state, which a renamed pydantic field would have broken without a word.
-- 2. The notification outbox is written by the append itself (p_notifications), so an event and the
--    notification it causes commit together or not at all.
-- 3. An overload without projection arguments, for streams that have none: the store's Python code
--    then knows nothing of the city-shaped arguments, which only the read model's projector makes.
--
-- The store no longer sends the debounced NOTIFY 0004 mentions: nothing listened. The subscriptions
-- table (0002) is left in place, unused.

ALTER TABLE city_status ADD COLUMN reminders_sent integer[] NOT NULL DEFAULT '{}';

-- Existing rows: from the state they were folded with (the last time this path is read).
UPDATE city_status
   SET reminders_sent = ARRAY(
       SELECT jsonb_array_elements_text(state -> 'certification' -> 'reminders_sent')::integer
   )
 WHERE jsonb_typeof(state -> 'certification' -> 'reminders_sent') = 'array';

DROP FUNCTION eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], text[],
                                text[], text[], jsonb[], bytea[], city_status, certifications[],
                                review_queue[], review_queue[], text[]);

-- As in 0004_append.sql (see its comments for locks, outcomes and idempotency), plus
-- reminders_sent and p_notifications.
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
    p_notifications    notification_outbox[]  -- caused by the new events; created_at is set here
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
           SET (version, phase, name, country, level, valid_until, cohort, standard_version, cycle,
                score, recommended_level, open_review_items, updated_at, state, reminders_sent)
             = (p_expected + cardinality(p_event_ids), (p_status).phase, (p_status).name,
                (p_status).country, (p_status).level, (p_status).valid_until, (p_status).cohort,
                (p_status).standard_version, (p_status).cycle, (p_status).score,
                (p_status).recommended_level, (p_status).open_review_items, v_recorded, (p_status).state,
                (p_status).reminders_sent)
         WHERE s.city_id = (p_status).city_id;
        IF NOT FOUND THEN
            INSERT INTO city_status
            SELECT (p_status).city_id, p_stream_id, p_expected + cardinality(p_event_ids), (p_status).phase,
                   (p_status).name, (p_status).country, (p_status).level, (p_status).valid_until,
                   (p_status).cohort, (p_status).standard_version, (p_status).cycle, (p_status).score,
                   (p_status).recommended_level, (p_status).open_review_items, v_recorded, (p_status).state,
                   (p_status).reminders_sent;
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
            INSERT INTO review_queue SELECT * FROM unnest(p_review_new)
            ON CONFLICT (city_id, criterion_id) DO UPDATE SET
                (cohort, reviewer_id, status, waiting_on, due_at, escalated)
              = (EXCLUDED.cohort, EXCLUDED.reviewer_id, EXCLUDED.status, EXCLUDED.waiting_on,
                 EXCLUDED.due_at, EXCLUDED.escalated);
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

-- A stream without projections (no projector, or one that does not fold this stream).
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
    p_bodies           bytea[]
)
RETURNS TABLE (outcome text, actual_version bigint, positions bigint[])
LANGUAGE sql VOLATILE AS $$
    SELECT * FROM eventstore_append(p_stream_id, p_expected, p_event_ids, p_types, p_schema_versions,
                                    p_occurred_at, p_actor_roles, p_actor_ids, p_workflow_ids, p_run_ids,
                                    p_data, p_bodies, NULL::city_status, '{}', '{}', '{}', '{}', '{}')
$$;
