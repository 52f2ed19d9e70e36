#!/usr/bin/env bash
# PostgreSQL container init script (docker-entrypoint-initdb.d): runs once, when the data
# volume is empty. Creates the role the services log in as and the database it owns.
#
# The role is deliberately not a superuser and has no BYPASSRLS: PostgreSQL does not apply
# row-level security to either, and the schema relies on it to scope every transaction to one
# district. The migrations (`proposals-ctl migrate`) run as this role too, so it owns the tables.
#
# Changing PROPOSALS_DB_PASSWORD later does not re-run this script; see ops/RUNBOOK.md
# ("Database outage") for ALTER ROLE.
set -euo pipefail

: "${PROPOSALS_DB_PASSWORD:?PROPOSALS_DB_PASSWORD must be set}"

# The password goes in as a psql variable (:'password' quotes it), never spliced into SQL text.
psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
     --set=password="$PROPOSALS_DB_PASSWORD" <<'SQL'
CREATE ROLE proposals LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION
    PASSWORD :'password';
CREATE DATABASE proposals OWNER proposals ENCODING 'UTF8' TEMPLATE template0;
-- Only the application role (and superusers) may connect to the application database.
REVOKE ALL ON DATABASE proposals FROM PUBLIC;
SQL
