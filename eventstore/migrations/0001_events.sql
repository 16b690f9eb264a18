-- The event log: append-only, one row per event, a hash chain per stream.
CREATE TABLE events (
    -- Global position, handed out at insert time (not commit time): see transaction_id.
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The writing transaction. Readers return only rows whose transaction is below
    -- pg_snapshot_xmin(pg_current_snapshot()), i.e. certainly finished, and page in
    -- (transaction_id, position) order, so writers run in parallel and no late commit is skipped.
    transaction_id  xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL,
    stream_id       text NOT NULL CHECK (stream_id <> ''),
    version         bigint NOT NULL CHECK (version >= 1),
    type            text NOT NULL CHECK (type <> ''),
    schema_version  integer NOT NULL CHECK (schema_version >= 1),
    occurred_at     timestamptz NOT NULL,  -- from the workflow (business time)
    recorded_at     timestamptz NOT NULL,  -- from the database clock, never decreasing within a stream
    actor_role      text NOT NULL,
    actor_id        text NOT NULL,
    workflow_id     text,
    run_id          text,
    data            jsonb NOT NULL,
    hash            bytea NOT NULL CHECK (octet_length(hash) = 32),
    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);

CREATE INDEX events_log_order ON events (transaction_id, position);

-- Append-only, enforced where no code path can forget it.
CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only: % on events is refused', TG_OP
        USING ERRCODE = 'ES001',
              HINT = 'record a correcting event instead';
END
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();
