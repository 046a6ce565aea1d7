#!/bin/sh
# Run once by the postgres image when it initialises the primary's cluster
# (/docker-entrypoint-initdb.d): a role that may only stream the WAL, and a pg_hba.conf line
# letting it connect for replication with its password. The replica's base backup uses it.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    --set=password="$REPLICATION_PASSWORD" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'password';
SQL
echo "host replication replicator all scram-sha-256" >> "$PGDATA/pg_hba.conf"
