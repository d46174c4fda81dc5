# syntax=docker/dockerfile:1.7
# Eventcast ops: the operator CLI eventcast-ops (replay, projections status, rebuild): a job, not a service (README "Operator CLI").
# Build from the repository root (the build context; /.dockerignore keeps node_modules, dist and .eventcast out):
#   docker build -f infra/docker/ops.Dockerfile -t eventcast/ops .
# infra/compose.yaml builds it so. Stage 1 installs exactly package-lock.json and builds; stage 2 keeps the
# production dependencies and the built output, runs as the unprivileged user `node` (uid 1000).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false SCARF_ANALYTICS=false
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=error
RUN npx tsc -b apps/ops \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/libs ./libs
COPY --from=build --chown=root:root /src/apps/query-api/package.json ./apps/query-api/package.json
COPY --from=build --chown=root:root /src/apps/query-api/dist ./apps/query-api/dist
COPY --from=build --chown=root:root /src/apps/ops/package.json ./apps/ops/package.json
COPY --from=build --chown=root:root /src/apps/ops/dist ./apps/ops/dist
USER node
WORKDIR /app/apps/ops
# e.g. docker compose run --rm ops projections status
ENTRYPOINT ["node", "dist/main.js"]
CMD ["--help"]
