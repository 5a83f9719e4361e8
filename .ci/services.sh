#!/usr/bin/env bash
# Services for the team-scale tests (tests/test_cluster.py): PostgreSQL's server binaries and
# the PostgreSQL drivers (the `team` extra). Idempotent; never fatal: where something cannot be
# installed, tests/test_cluster.py skips its PostgreSQL tests and CI stays green.
# Nothing is started here: the tests start (and stop) their own PostgreSQL, mlflow server and
# Ray nodes on free loopback ports.
set -uo pipefail
cd "$(dirname "$0")/.."

have_postgres() {
  command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1
}

if ! have_postgres; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""
    [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
    # the Debian package creates the `postgres` account the tests run the server as (when root)
    $SUDO apt-get update -qq \
      && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null \
      || echo "services.sh: could not install postgresql; PostgreSQL tests will skip" >&2
  else
    echo "services.sh: no apt-get; install PostgreSQL (initdb, pg_ctl) to run the PostgreSQL tests" >&2
  fi
fi

python -m pip install -q -e '.[team]' \
  || echo "services.sh: could not install the team extra (psycopg); PostgreSQL tests will skip" >&2

if have_postgres; then
  echo "services.sh: PostgreSQL $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | tail -1 || command -v initdb) ready"
fi
exit 0
