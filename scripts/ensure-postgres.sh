#!/usr/bin/env bash
# Makes sure the PostgreSQL server the integration tests use answers on 127.0.0.1:5432.
# On the development and CI machines it is a Debian cluster; start it if it is down.
set -euo pipefail
host="${PGHOST_TEST:-127.0.0.1}"
port="${PGPORT_TEST:-5432}"
if pg_isready -q -h "$host" -p "$port" 2>/dev/null; then exit 0; fi
if command -v pg_ctlcluster >/dev/null 2>&1 && [ -d /etc/postgresql ]; then
  version="$(ls /etc/postgresql | sort -V | tail -n 1)"
  echo "PostgreSQL is down; starting cluster $version/main"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h "$host" -p "$port" && exit 0
  sleep 1
done
echo "PostgreSQL is not answering on $host:$port; set ASSENT_TEST_DATABASE_URL to a server the tests may create databases on" >&2
exit 1
