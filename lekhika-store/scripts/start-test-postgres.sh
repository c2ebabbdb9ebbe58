#!/usr/bin/env bash
# Start (or reuse) a private PostgreSQL cluster for lekhika-store's tests.
#
# Installs nothing: needs Debian's `postgresql` package (CI: apt-get install -y postgresql).
# Idempotent: a running cluster on the port is reused. Prints `export …` lines
# for the URLs the tests read; use as:  eval "$(bash lekhika-store/scripts/start-test-postgres.sh)"
#
#   LEKHIKA_TEST_PG_ADMIN_URL  superuser, runs migrations (PgStore::migrate)
#   LEKHIKA_TEST_PG_APP_URL    role lekhika_app: LOGIN, not superuser, owns nothing
#
# Settings: LEKHIKA_PG_PORT (55432), LEKHIKA_PG_DIR (/tmp/lekhika-pg),
# LEKHIKA_PG_FSYNC (off: a test cluster; `on` for benchmarks),
# LEKHIKA_PG_OPTS (more server options, e.g. "-c shared_preload_libraries=pg_stat_statements").
# Authentication is `trust` on 127.0.0.1 and a private socket dir: a test cluster only.
set -euo pipefail

PORT="${LEKHIKA_PG_PORT:-55432}"
DIR="${LEKHIKA_PG_DIR:-/tmp/lekhika-pg}"
FSYNC="${LEKHIKA_PG_FSYNC:-off}"
EXTRA="${LEKHIKA_PG_OPTS:-}"
BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)"
if [ -z "$BIN" ] || [ ! -x "$BIN/initdb" ]; then
    echo "start-test-postgres: PostgreSQL server binaries not found (apt-get install -y postgresql)" >&2
    exit 1
fi

# The server refuses to run as root: act as `postgres` when we are root.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

mkdir -p "$DIR"
if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$DIR"; fi

if [ ! -f "$DIR/data/PG_VERSION" ]; then
    as_pg "$BIN/initdb" -D "$DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; exit 1; }
fi

if ! as_pg "$BIN/pg_ctl" -D "$DIR/data" status >/dev/null 2>&1; then
    as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=$FSYNC $EXTRA" start >&2 \
        || { cat "$DIR/server.log" >&2; exit 1; }
fi

PSQL=("$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
as_pg "${PSQL[@]}" -d postgres -c "DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lekhika_app') THEN
        CREATE ROLE lekhika_app LOGIN PASSWORD 'lekhika_app' NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS;
    END IF;
END \$\$;" >&2
if [ -z "$(as_pg "${PSQL[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = 'lekhika_test'")" ]; then
    as_pg "${PSQL[@]}" -d postgres -c "CREATE DATABASE lekhika_test" >&2
fi

echo "export LEKHIKA_TEST_PG_ADMIN_URL=postgres://postgres@127.0.0.1:$PORT/lekhika_test"
echo "export LEKHIKA_TEST_PG_APP_URL=postgres://lekhika_app:lekhika_app@127.0.0.1:$PORT/lekhika_test"
