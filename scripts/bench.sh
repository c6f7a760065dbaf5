#!/usr/bin/env bash
# Benchmarks: `npm run bench -- <group> [options]`, e.g. `npm run bench -- backbone`.
# Builds the libraries and bench/ (tsc -b), checks the group name, brings up PostgreSQL and the
# Kafka broker, then runs bench/dist/main.js. Figures are printed on stdout as
#   BENCH <name> value=<n> unit=<u> baseline=<n> ratio=<value/baseline>
# and progress/diagnostics on stderr. Exits non-zero on any failure.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: npm run bench -- <group> [options]   (bash scripts/bench.sh <group> [options])" >&2
  exit 2
fi

# Libraries first (project references), then the bench itself.
npx tsc -b bench/tsconfig.json >&2

if ! node bench/dist/main.js --list | grep -qxF -- "$1"; then
  echo "bench: unknown figure group \"$1\"; known groups: $(node bench/dist/main.js --list | paste -sd ' ' -)" >&2
  exit 2
fi

bash scripts/ensure-postgres.sh >&2
bash scripts/kafka.sh start >&2

export KAFKAJS_NO_PARTITIONER_WARNING=1
exec node bench/dist/main.js "$@"
