#!/usr/bin/env bash
# A private PostgreSQL server for tests and benchmarks, on 127.0.0.1 only.
#   scripts/pg.sh start|stop|status|url     (PGPORT=54330 PGDATA_DIR=var/pg by default)
# Installs Debian's postgresql package when no server binaries are found.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT=${PGPORT:-54330}
DATA=${PGDATA_DIR:-$PWD/var/pg}
DB=${PGDATABASE_NAME:-erpcare}
USER_NAME=${PGUSER_NAME:-erpcare}
PASSWORD=${PGPASSWORD_VALUE:-erpcare}

find_bin() {
  local dir
  for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/pg_ctl" ] && { echo "$dir"; return 0; }
  done
  return 1
}

ensure_installed() {
  if ! find_bin >/dev/null; then
    echo "pg.sh: installing PostgreSQL from Debian's packages" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  fi
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  ensure_installed
  local bin; bin=$(find_bin)
  mkdir -p "$DATA"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$DATA"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    as_postgres "$bin/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$DATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DATA'
shared_buffers = 512MB
work_mem = 16MB
max_connections = 200
fsync = ${PG_FSYNC:-on}
synchronous_commit = ${PG_SYNC_COMMIT:-on}
CONF
  fi
  if ! as_postgres "$bin/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    as_postgres "$bin/pg_ctl" -D "$DATA" -l "$DATA/server.log" -w start >/dev/null
  fi
  local psql=("$bin/psql" -h 127.0.0.1 -p "$PORT" -U postgres -v ON_ERROR_STOP=1 -qtA)
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_roles WHERE rolname='$USER_NAME'")" != 1 ]; then
    "${psql[@]}" -c "CREATE ROLE $USER_NAME LOGIN CREATEDB PASSWORD '$PASSWORD'"
  fi
  if [ "$("${psql[@]}" -c "SELECT 1 FROM pg_database WHERE datname='$DB'")" != 1 ]; then
    "${psql[@]}" -c "CREATE DATABASE $DB OWNER $USER_NAME"
  fi
  echo "postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB"
}

stop() {
  local bin; bin=$(find_bin) || return 0
  [ -f "$DATA/PG_VERSION" ] && as_postgres "$bin/pg_ctl" -D "$DATA" -m fast stop >/dev/null 2>&1 || true
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) bin=$(find_bin) && as_postgres "$bin/pg_ctl" -D "$DATA" status ;;
  url) echo "postgres://$USER_NAME:$PASSWORD@127.0.0.1:$PORT/$DB" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
