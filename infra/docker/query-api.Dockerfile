# syntax=docker/dockerfile:1.7
# Eventcast query-api: projectors, read models and HTTP queries, webhook delivery (docs/contracts.md).
# Build from the repository root (the build context; /.dockerignore keeps node_modules, dist and .eventcast out):
#   docker build -f infra/docker/query-api.Dockerfile -t eventcast/query-api .
# infra/compose.yaml builds it so. Stage 1 installs exactly package-lock.json and builds; stage 2 keeps the
# production dependencies and the built output, runs as the unprivileged user `node` (uid 1000).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false SCARF_ANALYTICS=false
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=error
RUN npx tsc -b apps/query-api \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/libs ./libs
COPY --from=build --chown=root:root /src/apps/query-api/package.json ./apps/query-api/package.json
COPY --from=build --chown=root:root /src/apps/query-api/dist ./apps/query-api/dist
RUN mkdir -p /var/lib/eventcast/recordings && chown node:node /var/lib/eventcast/recordings
USER node
WORKDIR /app/apps/query-api
ENV QUERY_API_PORT=4002 RECORDINGS_DIR=/var/lib/eventcast/recordings
EXPOSE 4002
# /ready: PostgreSQL answers, the projector consumes and no projection lags beyond READINESS_MAX_LAG_*.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.QUERY_API_PORT||4002)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
