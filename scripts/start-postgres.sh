#!/usr/bin/env bash
# Start the local PostgreSQL cluster and create the test role and database.
# Prints the SQLAlchemy URL on the last line.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $4}' | grep -q online; then
  $SUDO pg_ctlcluster "$ver" main start
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 0.5; done
psql_su() { $SUDO -u postgres psql -v ON_ERROR_STOP=1 -qtAc "$1" 2>/dev/null || su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"$1\""; }
if [ "$(id -u)" -eq 0 ]; then psql_su() { su postgres -c "psql -v ON_ERROR_STOP=1 -qtAc \"$1\""; }; fi
[ "$(psql_su "SELECT 1 FROM pg_roles WHERE rolname='motcua'")" = "1" ] || \
  psql_su "CREATE ROLE motcua LOGIN PASSWORD 'motcua' CREATEDB"
[ "$(psql_su "SELECT 1 FROM pg_database WHERE datname='motcua_test'")" = "1" ] || \
  psql_su "CREATE DATABASE motcua_test OWNER motcua"
echo "postgresql+psycopg://motcua:motcua@127.0.0.1:5432/motcua_test"
