# syntax=docker/dockerfile:1.7
# Eventcast command-api: HTTP commands, NATS request/reply handlers and the event publisher (docs/contracts.md).
# Build from the repository root (the build context; /.dockerignore keeps node_modules, dist and .eventcast out):
#   docker build -f infra/docker/command-api.Dockerfile -t eventcast/command-api .
# infra/compose.yaml builds it so. Stage 1 installs exactly package-lock.json and builds; stage 2 keeps the
# production dependencies and the built output, runs as the unprivileged user `node` (uid 1000).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false SCARF_ANALYTICS=false
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=error
RUN npx tsc -b apps/command-api \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
# ffmpeg: clips are cut (stream copy) and their JPEG decoded by ffmpeg in command-api.
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/libs ./libs
COPY --from=build --chown=root:root /src/apps/command-api/package.json ./apps/command-api/package.json
COPY --from=build --chown=root:root /src/apps/command-api/dist ./apps/command-api/dist
# Media storage (RECORDINGS_DIR: clips, retention), shared with ingest and query-api through a volume.
RUN mkdir -p /var/lib/eventcast/recordings && chown node:node /var/lib/eventcast/recordings
USER node
WORKDIR /app/apps/command-api
ENV COMMAND_API_PORT=4001 RECORDINGS_DIR=/var/lib/eventcast/recordings
EXPOSE 4001
# /ready: the event store answers (docs/contracts.md "Readiness"); /health is liveness only.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.COMMAND_API_PORT||4001)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "dist/main.js"]
