-- The database cannot rewrite history (issue 9): three roles instead of one.
--
--   the migration owner (whoever runs this, e.g. `citycert`): owns the schema and every table; the
--       only role that could disable the append-only trigger. It runs migrations and nothing else.
--   citycert_writer (NOLOGIN): owns eventstore_append, SECURITY DEFINER, and holds exactly what
--       the append writes: INSERT on events, the projection rows, the outbox. Nobody logs in as
--       it and nobody is granted it but the owner (to hand functions to it in migrations).
--   citycert_runtime (NOLOGIN): the group every process's login role is put in. It reads events
--       and appends only by calling eventstore_append; it keeps what it needs on the derived
--       tables (rebuild empties and refills the projections, tokens are created and revoked).
--
-- Roles are cluster-wide while migrations are per database: the roles may already exist (another
-- database of the cluster, or an operator who created them beforehand, see the README), and two
-- databases may migrate at the same moment, so a role another migration just created is fine.
-- A migrating role that may not create roles stops here with the statements to run instead.
--
-- Tables added by later migrations get no rights by default: grant them to citycert_runtime (and to
-- citycert_writer what the append writes) in the same migration.

DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['citycert_writer', 'citycert_runtime'] LOOP
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = r) THEN
            BEGIN
                EXECUTE format('CREATE ROLE %I NOLOGIN', r);
            EXCEPTION
                WHEN duplicate_object OR unique_violation THEN
                    NULL;  -- created by another database's migration meanwhile
                WHEN insufficient_privilege THEN
                    RAISE EXCEPTION 'role % is missing and % may not create roles', r, current_user
                        USING ERRCODE = 'insufficient_privilege',
                              HINT = format('as a superuser, run once per cluster: CREATE ROLE citycert_writer NOLOGIN; '
                                            'CREATE ROLE citycert_runtime NOLOGIN; GRANT citycert_writer TO %I; '
                                            '(README, "The database''s roles")', current_user);
            END;
        END IF;
        IF (SELECT rolcanlogin OR rolsuper FROM pg_roles WHERE rolname = r) THEN
            RAISE EXCEPTION 'role % exists but can log in or is a superuser; it must be NOLOGIN NOSUPERUSER', r;
        END IF;
    END LOOP;

    -- To give eventstore_append to citycert_writer we must be able to act as it (SET ROLE; a role
    -- that created it with CREATEROLE holds only ADMIN on it from PostgreSQL 16 on).
    IF NOT pg_has_role(current_user, 'citycert_writer',
                       CASE WHEN current_setting('server_version_num')::int >= 160000 THEN 'SET' ELSE 'MEMBER' END)
    THEN
        BEGIN
            EXECUTE format('GRANT citycert_writer TO %I', current_user);
        EXCEPTION
            WHEN unique_violation THEN
                NULL;
            WHEN insufficient_privilege THEN
                RAISE EXCEPTION '% must be a member of citycert_writer to hand it the append function', current_user
                    USING ERRCODE = 'insufficient_privilege',
                          HINT = format('as a superuser: GRANT citycert_writer TO %I;', current_user);
        END;
    END IF;
END
$roles$;

DO $grants$
DECLARE
    -- The schema the tables were created in (public, unless the owner's search_path said otherwise).
    s text := (SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = 'events'::regclass);
    append_full text := 'eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], '
                        'text[], text[], text[], jsonb[], bytea[], city_status, certifications[], review_queue[], '
                        'review_queue[], text[], notification_outbox[])';
    append_plain text := 'eventstore_append(text, bigint, uuid[], text[], integer[], timestamptz[], text[], '
                         'text[], text[], text[], jsonb[], bytea[])';
    -- pg_temp last: a temporary object of the caller's can never stand in for one of ours.
    fixed_path text := format('pg_catalog, %I, pg_temp', s);
    f text;
BEGIN
    -- Nobody but the owner creates objects here (PostgreSQL 15+ already says so for public).
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', s);
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO citycert_writer, citycert_runtime', s);

    -- What the append reads and writes, and nothing more (no UPDATE, DELETE or TRUNCATE on events).
    GRANT SELECT, INSERT ON events TO citycert_writer;
    GRANT SELECT, INSERT, UPDATE ON city_status TO citycert_writer;
    GRANT INSERT ON certifications TO citycert_writer;
    GRANT SELECT, INSERT, UPDATE, DELETE ON review_queue TO citycert_writer;
    GRANT INSERT ON notification_outbox TO citycert_writer;

    -- A new owner must have CREATE on the function's schema at the moment ownership passes; it
    -- keeps none after.
    EXECUTE format('GRANT CREATE ON SCHEMA %I TO citycert_writer', s);
    FOREACH f IN ARRAY ARRAY[append_full, append_plain] LOOP
        EXECUTE format('ALTER FUNCTION %s OWNER TO citycert_writer', f);
        EXECUTE format('ALTER FUNCTION %s SECURITY DEFINER SET search_path = %s', f, fixed_path);
        EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO citycert_runtime', f);
    END LOOP;
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM citycert_writer', s);

    -- rebuild holds appends back with a SHARE lock on events for its transaction; LOCK in that mode
    -- needs UPDATE, DELETE or TRUNCATE rights (or ownership), which neither other role may hold,
    -- so the owner lends it through this function, which can do nothing else.
    CREATE FUNCTION eventstore_hold_appends() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER AS $fn$
    BEGIN
        LOCK TABLE events IN SHARE MODE;
    END
    $fn$;
    EXECUTE format('ALTER FUNCTION eventstore_hold_appends() SET search_path = %s', fixed_path);
    REVOKE ALL ON FUNCTION eventstore_hold_appends() FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION eventstore_hold_appends() TO citycert_runtime;

    -- The runtime: reads the log; empties and refills the projections (rebuild: TRUNCATE, COPY);
    -- a notifier stamps the outbox; tokens are created and revoked; subscribers keep their place.
    GRANT SELECT ON events, schema_migrations TO citycert_runtime;
    GRANT SELECT, INSERT, TRUNCATE ON city_status, certifications, review_queue TO citycert_runtime;
    GRANT SELECT, UPDATE (attempts, sent_at) ON notification_outbox TO citycert_runtime;
    GRANT SELECT, INSERT, UPDATE (revoked_at) ON api_tokens TO citycert_runtime;
    GRANT SELECT, INSERT, UPDATE ON subscriptions TO citycert_runtime;
END
$grants$;
