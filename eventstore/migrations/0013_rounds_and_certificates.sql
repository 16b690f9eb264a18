-- Rounds and certificates (issue 14): the projections speak of rounds, and the city's row says
-- which certificate it holds.
--
-- 1. `cohort` becomes `round_id` in city_status, certifications and review_queue: the value is
--    the round's id (a cohort was free text before rounds were programme records; the events keep
--    their field's old name).
-- 2. city_status gains what the public directory filters and shows without reading the state:
--    region, the certificate held (number, valid or suspended) and its valid_from; certifications
--    gain the certificate's number, for the verification page.
-- 3. eventstore_append writes the new columns: replaced in place (same signature, so its owner,
--    citycert_writer, and its grants stay), SECURITY DEFINER and its fixed search_path set again as
--    0008 set them (a replacement resets both).
--
-- Rows folded before this migration have the new columns empty until `citycert rebuild` folds
-- the log again (region is copied from the stored state here; awards made before the ROUNDS rules
-- recorded no certificate number, and the fold derives theirs, domain/certificates.py).

ALTER TABLE city_status RENAME COLUMN cohort TO round_id;
ALTER TABLE certifications RENAME COLUMN cohort TO round_id;
ALTER TABLE review_queue RENAME COLUMN cohort TO round_id;
ALTER INDEX certifications_cohort RENAME TO certifications_round;

ALTER TABLE city_status
    ADD COLUMN region text,
    ADD COLUMN certificate_number text,
    ADD COLUMN certificate_status text CHECK (certificate_status IN ('valid', 'suspended')),
    ADD COLUMN valid_from timestamptz;
ALTER TABLE certifications ADD COLUMN certificate_number text;

-- Not unique: an index must never refuse an append; the read model takes a number's latest row.
CREATE INDEX certifications_certificate_number ON certifications (certificate_number)
    WHERE certificate_number IS NOT NULL;
-- The public directory: the certified cities.
CREATE INDEX city_status_certified ON city_status (level, name) WHERE level IS NOT NULL;

UPDATE city_status SET region = state ->> 'region' WHERE state ? 'region';

-- As in 0007 (see 0004 for locks, outcomes and idempotency), with the columns above.
CREATE OR REPLACE FUNCTION eventstore_append(
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
LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $$
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
                score, recommended_level, open_review_items, updated_at, state, reminders_sent, region,
                certificate_number, certificate_status, valid_from)
             = (p_expected + cardinality(p_event_ids), (p_status).phase, (p_status).name,
                (p_status).country, (p_status).level, (p_status).valid_until, (p_status).round_id,
                (p_status).standard_version, (p_status).cycle, (p_status).score,
                (p_status).recommended_level, (p_status).open_review_items, v_recorded, (p_status).state,
                (p_status).reminders_sent, (p_status).region, (p_status).certificate_number,
                (p_status).certificate_status, (p_status).valid_from)
         WHERE s.city_id = (p_status).city_id;
        IF NOT FOUND THEN
            INSERT INTO city_status
            SELECT (p_status).city_id, p_stream_id, p_expected + cardinality(p_event_ids), (p_status).phase,
                   (p_status).name, (p_status).country, (p_status).level, (p_status).valid_until,
                   (p_status).round_id, (p_status).standard_version, (p_status).cycle, (p_status).score,
                   (p_status).recommended_level, (p_status).open_review_items, v_recorded, (p_status).state,
                   (p_status).reminders_sent, (p_status).region, (p_status).certificate_number,
                   (p_status).certificate_status, (p_status).valid_from;
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

DO $owner$
DECLARE
    s text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = 'events'::regclass);
    append_full text := 'eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], '
                        'text[], text[], text[], jsonb[], bytea[], city_status, certifications[], review_queue[], '
                        'review_queue[], text[], notification_outbox[])';
BEGIN
    EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %s', append_full,
                   format('pg_catalog, %I, pg_temp', s));
END
$owner$;
