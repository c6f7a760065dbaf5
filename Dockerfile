# syntax=docker/dockerfile:1
#
# One image for every Assent service; ASSENT_SERVICE picks the process at run time:
#
#   docker build -t assent:dev .
#   docker run -e ASSENT_SERVICE=catalog -e DATABASE_URL=... -e KAFKA_BROKERS=... -p 3002:3000 assent:dev
#   docker run -e ASSENT_SERVICE=embedded -p 3000:3000 assent:dev     # all six in one process, PGlite
#
# docker-compose.yml and infra/k8s/ run it; infra/infra.spec.ts checks this file statically.

FROM node:20-bookworm-slim AS base
WORKDIR /app

# --- manifests: only the package.json files, so `npm ci` stays cached until dependencies change.
FROM base AS manifests
COPY . /src
RUN set -eu; \
    mkdir -p /out; \
    cp /src/package.json /src/package-lock.json /out/; \
    for f in /src/libs/*/package.json /src/services/*/package.json; do \
      [ -f "$f" ] || continue; \
      rel="${f#/src/}"; \
      mkdir -p "/out/$(dirname "$rel")"; \
      cp "$f" "/out/$rel"; \
    done

# --- build: full install (dev dependencies: TypeScript), compile, then drop dev dependencies.
FROM base AS build
COPY --from=manifests /out/ ./
RUN --mount=type=cache,target=/root/.npm \
    npm ci --no-audit --no-fund
COPY . .
RUN npm run build
RUN --mount=type=cache,target=/root/.npm \
    npm prune --omit=dev --no-audit --no-fund

# --- runtime: production dependencies and compiled output only; runs as the unprivileged `node` user.
FROM base AS runtime
ENV NODE_ENV=production \
    PORT=3000
COPY --from=build /app /app
# Starts services/$ASSENT_SERVICE/dist/main.js; refuses an unknown or missing ASSENT_SERVICE.
COPY --chmod=0755 <<'EOF' /usr/local/bin/assent-start
#!/bin/sh
set -eu
case "${ASSENT_SERVICE:-}" in
  intent | catalog | cart | consent | payment | aftersales | embedded) ;;
  *)
    echo "assent-start: set ASSENT_SERVICE to intent|catalog|cart|consent|payment|aftersales|embedded (got '${ASSENT_SERVICE:-}')" >&2
    exit 64
    ;;
esac
export OTEL_SERVICE_NAME="${OTEL_SERVICE_NAME:-$ASSENT_SERVICE}"
exec node "services/${ASSENT_SERVICE}/dist/main.js" "$@"
EOF
# The embedded mode keeps PGlite data in .data/ (ASSENT_DATA_DIR); the distributed services write nothing.
RUN mkdir -p /app/.data && chown 1000:1000 /app/.data
# uid/gid 1000 is the image's `node` user; numeric so Kubernetes can verify runAsNonRoot.
USER 1000:1000
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/health/live',{signal:AbortSignal.timeout(4000)}).then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["assent-start"]
