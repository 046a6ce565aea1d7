#!/bin/sh
# The replica's start: the first time (an empty volume), a base backup of the primary that keeps
# streaming from it (-R writes primary_conninfo and standby.signal; the slot keeps on the
# primary the WAL this replica has not received, so it catches up after being down). Then the
# image's own entrypoint, which finds the cluster initialised and starts it as a hot standby.
set -eu
if [ ! -s "$PGDATA/PG_VERSION" ]; then
    mkdir -p "$PGDATA"
    chown postgres:postgres "$PGDATA"
    chmod 700 "$PGDATA"
    until pg_isready --host=primary --username=replicator --dbname=postgres --quiet; do
        sleep 1
    done
    PGPASSWORD="$REPLICATION_PASSWORD" su-exec postgres pg_basebackup \
        --host=primary --username=replicator --pgdata="$PGDATA" \
        --write-recovery-conf --wal-method=stream --checkpoint=fast \
        --create-slot --slot=replica1
fi
exec docker-entrypoint.sh "$@"
