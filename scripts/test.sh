#!/usr/bin/env bash
# The whole test suite: brings up what it needs (the Kafka broker, PostgreSQL), then runs jest.
# Extra arguments go to jest, e.g. `npm test -- libs/bus`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# The end-to-end tests start the services from their build, as a deployment would.
npm run build --silent
bash scripts/ensure-postgres.sh
bash scripts/kafka.sh start

# PGlite loads its WebAssembly through dynamic import(), which jest's VM only allows with this flag.
export NODE_OPTIONS="${NODE_OPTIONS:-} --experimental-vm-modules --no-warnings=ExperimentalWarning"
export KAFKAJS_NO_PARTITIONER_WARNING=1
# The services' info logs would bury jest's report; LOG_LEVEL=info brings them back.
export LOG_LEVEL="${LOG_LEVEL:-warn}"
exec npx jest --runInBand "$@"
