#!/usr/bin/env bash
# Runs each of the six services as its own process against Kafka and PostgreSQL.
#   DATABASE_URL=postgres://... KAFKA_BROKERS=127.0.0.1:9092 ASSENT_JWT_SECRET=... \
#   ASSENT_MANDATE_SIGNING_KEY='{...private Ed25519 JWK with kid...}' \
#   ASSENT_MANDATE_VERIFICATION_KEYS='{"keys":[...public JWKs...]}' npm run start:distributed
# (`npm run assent -- mandate-keys` prints a fresh pair.)
# Ports: intent 3001 (the shoppers' conversation API), catalog 3002, cart 3003, consent 3004,
# payment 3005, aftersales 3006 (BASE_PORT moves them all). Ctrl-C stops them all.
set -euo pipefail
cd "$(dirname "$0")/.."

for var in DATABASE_URL KAFKA_BROKERS ASSENT_JWT_SECRET ASSENT_MANDATE_SIGNING_KEY ASSENT_MANDATE_VERIFICATION_KEYS; do
  if [[ -z "${!var:-}" ]]; then
    echo "start:distributed needs $var (see README: Running against Kafka and PostgreSQL)" >&2
    exit 2
  fi
done

base=${BASE_PORT:-3001}
pids=()
stop() {
  trap - INT TERM EXIT
  kill "${pids[@]}" 2>/dev/null || true
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop INT TERM EXIT

i=0
for service in intent catalog cart consent payment aftersales; do
  port=$((base + i))
  PORT=$port OTEL_SERVICE_NAME="assent-$service" node "services/$service/dist/main.js" \
    > >(sed -u "s/^/[$service] /") 2>&1 &
  pids+=($!)
  echo "$service on http://127.0.0.1:$port" >&2
  i=$((i + 1))
done
wait -n "${pids[@]}"
echo "a service exited; stopping the others" >&2
exit 1
