#!/bin/sh
# Runs once, when the postgres volume is first initialised (docker-entrypoint-initdb.d):
# a role for Temporal (it creates its own two databases, so CREATEDB) and a role and database for
# citycert's event store. Changing the passwords later means ALTER ROLE by hand: this script does
# not run again on an existing volume.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v temporal_password="$TEMPORAL_DB_PASSWORD" \
    -v eventstore_password="$EVENTSTORE_DB_PASSWORD" <<'SQL'
CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
CREATE ROLE citycert LOGIN PASSWORD :'eventstore_password';
CREATE DATABASE citycert OWNER citycert;
SQL
