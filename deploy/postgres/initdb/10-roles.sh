#!/bin/sh
# Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d):
# - temporal: Temporal's role (it creates its own two databases, so CREATEDB);
# - citycert: the event store's owner. It owns the database and its schema and runs the
#   migrations (the one-shot `migrate` service), nothing else;
# - citycert_writer, citycert_runtime: the NOLOGIN roles of migration 0008 (made here, as the
#   superuser, so the owner needs no CREATEROLE): the writer owns the append function; the runtime
#   group reads the log and appends only through that function;
# - citycert_app: the login the workers and the API run as, in citycert_runtime, with its own
#   password. It cannot alter, edit or empty the events table, nor disable its trigger.
# Changing the passwords later means ALTER ROLE by hand: this script does not run again on an
# existing volume (README, "The database's roles", for a volume made before the split).
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" \
    -v eventstore_password="$EVENTSTORE_DB_PASSWORD" \
    -v app_password="$EVENTSTORE_APP_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE citycert LOGIN PASSWORD :'eventstore_password';
CREATE ROLE citycert_writer NOLOGIN;
CREATE ROLE citycert_runtime NOLOGIN;
GRANT citycert_writer TO citycert;
CREATE ROLE citycert_app LOGIN PASSWORD :'app_password' IN ROLE citycert_runtime;
CREATE DATABASE citycert OWNER citycert;
SQL
# The public schema of the new database: the owner's alone to create in (PostgreSQL 15+ already).
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname citycert <<'SQL'
ALTER SCHEMA public OWNER TO citycert;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
SQL
