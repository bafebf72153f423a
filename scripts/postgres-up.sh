#!/usr/bin/env bash
# Makes sure a local PostgreSQL is running with the test database, then prints its URL.
# Idempotent. Used by .ci/run and by the test suite when DABGENT_TEST_DATABASE_URL is not set.
# Installs PostgreSQL with apt-get when it is missing (needs root).
set -euo pipefail
db="${DABGENT_TEST_DB_NAME:-dabgent_test}"
password="${DABGENT_TEST_DB_PASSWORD:-postgres}"
log() { echo "postgres-up: $*" >&2; }

as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$*"; else sudo -u postgres sh -c "$*"; fi
}

if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  log "PostgreSQL is not installed; installing it with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi

version="$(ls /etc/postgresql | sort -V | tail -n 1)"
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main" && $4 == "online"' | grep -q .; then
  log "starting cluster $version/main"
  pg_ctlcluster "$version" main start >&2
fi

for _ in $(seq 1 50); do
  as_postgres "psql -qtAc 'SELECT 1'" >/dev/null 2>&1 && break
  sleep 0.2
done

as_postgres "psql -qtAc \"ALTER USER postgres PASSWORD '$password'\"" >/dev/null
if [ "$(as_postgres "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname = '$db'\"")" != "1" ]; then
  as_postgres "createdb $db" >&2
fi
port="$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')"
echo "postgres://postgres:${password}@127.0.0.1:${port}/${db}"
