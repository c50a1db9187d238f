#!/usr/bin/env bash
# Installs (Debian package "postgresql"), starts a real PostgreSQL on loopback and creates the test
# database/user for the service's multi-host tests. Idempotent: run it as often as you like.
# Prints the connection string as a shell line for eval, and writes it to .cache/postgres.env:
#   eval "$(scripts/postgres.sh)"    # sets DELTA_TEST_PG
# Everything else goes to stderr. Needs root (apt-get, pg_ctlcluster) unless PostgreSQL already runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
USER_NAME=${DELTA_PG_USER:-delta_test}
DB_NAME=${DELTA_PG_DB:-delta_test}
PASSWORD=${DELTA_PG_PASSWORD:-delta_test_pw}
PORT=${DELTA_PG_PORT:-5432}

log() { echo "postgres.sh: $*" >&2; }

if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || { log "PostgreSQL is not installed; run as root (apt-get install postgresql)"; exit 1; }
  log "installing postgresql (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi

# The newest installed server version and its cluster (Debian creates "main" on install).
VERSION=$(ls /usr/lib/postgresql | sort -V | tail -1)
if ! pg_lsclusters -h | awk '{print $1"/"$2}' | grep -qx "$VERSION/main"; then
  log "creating cluster $VERSION/main on port $PORT"
  pg_createcluster "$VERSION" main --port "$PORT" >&2
fi
CONF=/etc/postgresql/$VERSION/main/postgresql.conf
# Loopback only: the test server must not be reachable from other machines.
if ! grep -qE "^listen_addresses *= *'localhost'" "$CONF"; then
  echo "listen_addresses = 'localhost'" >> "$CONF"
fi
STATUS=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $4}')
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" '$1==v && $2=="main" {print $3}')
if [ "$STATUS" != online ]; then
  log "starting cluster $VERSION/main"
  pg_ctlcluster "$VERSION" main start >&2
fi
for _ in $(seq 1 50); do
  su postgres -c "pg_isready -q -h 127.0.0.1 -p $PORT" && break
  sleep 0.2
done

psql_admin() { su postgres -c "psql -p $PORT -v ON_ERROR_STOP=1 -qAtX $*"; }
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname = '$USER_NAME'\"")" != 1 ]; then
  log "creating role $USER_NAME"
  psql_admin "-c \"CREATE ROLE $USER_NAME LOGIN PASSWORD '$PASSWORD'\""
fi
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname = '$DB_NAME'\"")" != 1 ]; then
  log "creating database $DB_NAME"
  psql_admin "-c \"CREATE DATABASE $DB_NAME OWNER $USER_NAME\""
fi

CS="Host=127.0.0.1;Port=$PORT;Username=$USER_NAME;Password=$PASSWORD;Database=$DB_NAME"
mkdir -p "$ROOT/.cache"
echo "DELTA_TEST_PG='$CS'" > "$ROOT/.cache/postgres.env"
log "PostgreSQL $VERSION on 127.0.0.1:$PORT, database $DB_NAME (also in .cache/postgres.env)"
echo "export DELTA_TEST_PG='$CS'"
