#!/usr/bin/env bash
# A private PostgreSQL cluster under $STATE on a free port.
#   ops/postgres.sh start   initdb if needed, start, create the app role and database;
#                           prints DATABASE_URL and writes it to $STATE/database-url
#   ops/postgres.sh stop
#   ops/postgres.sh reset   stop and delete the cluster (a fresh one at the next start)
#   ops/postgres.sh restart immediate|fast   an outage for fault tests
#   ops/postgres.sh admin SQL   runs SQL as the superuser on the app database (benchmarks' set-up)
# PG_SERVER_OPTIONS adds server options at start (e.g. "-c shared_preload_libraries=pg_stat_statements").
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
APP_USER=proposals
APP_PASSWORD="${APP_PASSWORD:-proposals-local}"
APP_DB=proposals

# PostgreSQL refuses to run as root: when root, the cluster belongs to the 'postgres' user.
# It starts in / so that it never tries to enter a working folder it cannot reach. Under a
# moved clock (ops/test.sh's TEST_TODAY) it makes libfaketime's shared state of its own: the
# caller's (FAKETIME_SHARED) belongs to root and the postgres user cannot open it.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- env -u FAKETIME_SHARED "$@"); else "$@"; fi
}

# The folder for everything the server writes (its data and its log): $STATE when the owner can
# reach it, else a private folder under /tmp, as a checkout under a closed home folder (mode 700)
# cannot be entered by the 'postgres' user.
server_home() {
  local home="$STATE"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql postgres
    mkdir -p "$home/pgdata"
    chown postgres "$home/pgdata"
    if ! runuser -u postgres -- test -w "$home/pgdata"; then
      home="/tmp/proposals-pg-$(echo "$STATE" | md5sum | cut -c1-8)"
      mkdir -p "$home/pgdata"; chown -R postgres "$home"; chmod 700 "$home"
    fi
  fi
  mkdir -p "$home/pgdata"
  echo "$home"
}

server_options() {
  echo "-p $1 -k $2 -c listen_addresses=127.0.0.1 -c max_connections=600 -c shared_buffers=256MB -c max_wal_size=8GB -c checkpoint_timeout=15min ${PG_SERVER_OPTIONS:-}"
}

start() {
  local home data log port
  home="$(server_home)"
  data="$home/pgdata"
  log="$home/postgres.log"
  if [ -f "$STATE/pg.port" ] && as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "PostgreSQL already running on port $(cat "$STATE/pg.port")"
  else
    if [ ! -f "$data/PG_VERSION" ]; then
      say "initdb $data"
      as_owner "$PGBIN/initdb" -D "$data" -U postgres -E UTF8 --locale=C.UTF-8 \
        --auth-local=trust --auth-host=scram-sha-256 >"$STATE/initdb.log" 2>&1 || { cat "$STATE/initdb.log"; die "initdb failed"; }
    fi
    port="$(free_port "${PG_PORT:-55432}")"
    echo "$port" >"$STATE/pg.port"
    echo "$data" >"$STATE/pg.data"
    echo "$log" >"$STATE/pg.log"
    touch "$log"; [ "$(id -u)" -eq 0 ] && chown postgres "$log"
    say "starting PostgreSQL on 127.0.0.1:$port"
    # A WAL budget as a production server would have: with the defaults (1 GB, 5 min), bulk work
    # (catch-up, imports) checkpoints often, and after each checkpoint the first change to a page
    # of the random-UUID indexes writes the whole page to the WAL again.
    as_owner "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 -o "$(server_options "$port" "$data")" start >/dev/null \
      || { tail -20 "$log"; die "PostgreSQL did not start"; }
  fi
  port="$(cat "$STATE/pg.port")"
  local psql=(as_owner "$PGBIN/psql" -h "$data" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qtA)
  # The services' role: no superuser, so row-level security applies to it; CREATEDB for tests.
  "${psql[@]}" -d postgres -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$APP_USER') THEN
        CREATE ROLE $APP_USER LOGIN CREATEDB PASSWORD '$APP_PASSWORD';
      END IF; END \$\$;" >/dev/null
  if [ -z "$("${psql[@]}" -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$APP_DB'")" ]; then
    "${psql[@]}" -d postgres -c "CREATE DATABASE $APP_DB OWNER $APP_USER" >/dev/null
  fi
  local url="postgres://$APP_USER:$APP_PASSWORD@127.0.0.1:$port/$APP_DB"
  echo "$url" >"$STATE/database-url"
  echo "$url"
}

stop() {
  [ -f "$STATE/pg.data" ] || { say "PostgreSQL is not running"; return 0; }
  as_owner "$PGBIN/pg_ctl" -D "$(cat "$STATE/pg.data")" -m fast -w stop >/dev/null 2>&1 || true
  rm -f "$STATE/pg.port"
  say "PostgreSQL stopped"
}

# Restarts the running server as an outage would: `immediate` (a crash: no checkpoint, every
# connection cut, recovery on start) or `fast` (connections ended, clean shutdown).
restart() {
  local mode="${1:-fast}" data port
  [ -f "$STATE/pg.data" ] || die "PostgreSQL is not running"
  data="$(cat "$STATE/pg.data")"; port="$(cat "$STATE/pg.port")"
  as_owner "$PGBIN/pg_ctl" -D "$data" -l "$(cat "$STATE/pg.log")" -m "$mode" -w -t 60 -o "$(server_options "$port" "$data")" restart >/dev/null \
    || die "PostgreSQL did not restart"
  say "PostgreSQL restarted ($mode) on port $port"
}

admin() {
  [ -f "$STATE/pg.data" ] || die "PostgreSQL is not running"
  as_owner "$PGBIN/psql" -h "$(cat "$STATE/pg.data")" -p "$(cat "$STATE/pg.port")" -U postgres -d "$APP_DB" -v ON_ERROR_STOP=1 -qtA -c "$1"
}

# Stops the server and deletes its cluster, wherever server_home put it.
reset() {
  stop
  rm -rf "$(server_home)/pgdata" "$STATE"/pg.*
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  reset) reset ;;
  restart) restart "${2:-fast}" ;;
  admin) admin "${2:?SQL}" ;;
  *) echo "usage: $0 start|stop|reset|restart [immediate|fast]|admin SQL" >&2; exit 2 ;;
esac
