#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the indexer's tests and bench, not the system service:
#   scripts/postgres.sh start   # install postgresql-15 if missing, initdb into target/postgres, start, print the URL
#   scripts/postgres.sh url     # print the URL of the running cluster
#   scripts/postgres.sh stop    # stop it (the data stays in target/postgres until removed)
# It listens on 127.0.0.1 only (port $PGPORT, default 54329, or the next free one), its unix socket
# sits inside target/postgres, and it trusts local connections (no password): test data only.
# The tests read the URL from INDEXER_TEST_POSTGRES:
#   export INDEXER_TEST_POSTGRES=$(scripts/postgres.sh start)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dir="$root/target/postgres"
data="$dir/data"
bin=/usr/lib/postgresql/15/bin
database=indexer
port_file="$dir/port"

# initdb and postgres refuse to run as root: as root, the cluster runs as the postgres user the
# package creates
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

install() {
  if [ -x "$bin/initdb" ]; then
    return
  fi
  echo "postgresql-15 is missing: installing it" >&2
  # a fresh machine may have no package lists yet: update once if the first attempt fails
  if [ "$(id -u)" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 >&2 ||
      { apt-get update >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 >&2; }
  elif sudo -n true 2>/dev/null; then
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 >&2 ||
      { sudo apt-get update >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql-15 >&2; }
  else
    echo "postgresql-15 is not installed and sudo asks for a password: install it with 'sudo apt-get install -y postgresql-15'" >&2
    exit 1
  fi
  [ -x "$bin/initdb" ] || { echo "no $bin/initdb after installing postgresql-15" >&2; exit 1; }
}

url() {
  echo "postgres://$(owner_name)@127.0.0.1:$(cat "$port_file")/$database"
}

owner_name() {
  if [ "$(id -u)" = 0 ]; then echo postgres; else id -un; fi
}

free_port() {
  local port=${PGPORT:-54329}
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    port=$((port + 1))
  done
  echo "$port"
}

running() {
  [ -f "$data/postmaster.pid" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
  install
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then
    chown postgres "$dir"
    # the postgres user must be able to reach target/postgres
    chmod o+x "$root" "$root/target" 2>/dev/null || true
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    as_owner "$bin/initdb" -D "$data" --auth=trust --encoding=UTF8 --locale=C.UTF-8 --username="$(owner_name)" >"$dir/initdb.log" 2>&1 \
      || { cat "$dir/initdb.log" >&2; exit 1; }
  fi
  if ! running; then
    free_port >"$port_file"
    as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-h 127.0.0.1 -p $(cat "$port_file") -k $dir -c synchronous_commit=off" \
      start >&2 || { tail -20 "$dir/server.log" >&2; exit 1; }
  fi
  if ! as_owner "$bin/psql" -h "$dir" -p "$(cat "$port_file")" -U "$(owner_name)" -d postgres -Atqc \
      "SELECT 1 FROM pg_database WHERE datname = '$database'" | grep -q 1; then
    as_owner "$bin/createdb" -h "$dir" -p "$(cat "$port_file")" -U "$(owner_name)" "$database"
  fi
  url
}

stop() {
  if running; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url)
    running || { echo "not running: scripts/postgres.sh start" >&2; exit 1; }
    url
    ;;
  *)
    echo "usage: $0 start|stop|url" >&2
    exit 2
    ;;
esac
