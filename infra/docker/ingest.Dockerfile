# syntax=docker/dockerfile:1.7
# Eventcast ingest: RTMP/RTMPS ingest (node-media-server), LL-HLS packaging with ffmpeg, the HLS/VOD/clips origin (docs/hls.md).
# Build from the repository root (the build context; /.dockerignore keeps node_modules, dist and .eventcast out):
#   docker build -f infra/docker/ingest.Dockerfile -t eventcast/ingest .
# infra/compose.yaml builds it so. Stage 1 installs exactly package-lock.json and builds; stage 2 keeps the
# production dependencies and the built output, runs as the unprivileged user `node` (uid 1000).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false SCARF_ANALYTICS=false
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=error
RUN npx tsc -b apps/ingest \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
# ffmpeg and ffprobe (Debian 12: ffmpeg 5.1, what the packager was measured with; docs/design.md).
RUN apt-get update && apt-get install -y --no-install-recommends ffmpeg && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/libs ./libs
COPY --from=build --chown=root:root /src/apps/ingest/package.json ./apps/ingest/package.json
COPY --from=build --chown=root:root /src/apps/ingest/dist ./apps/ingest/dist
# MEDIA_DIR (live HLS work files) and RECORDINGS_DIR (VOD, clips): volumes in compose, owned by the app user.
RUN mkdir -p /var/lib/eventcast/media /var/lib/eventcast/recordings && chown node:node /var/lib/eventcast/media /var/lib/eventcast/recordings
USER node
WORKDIR /app/apps/ingest
ENV INGEST_RTMP_PORT=1935 INGEST_RTMPS_PORT=1936 INGEST_HTTP_PORT=8000 \
    MEDIA_DIR=/var/lib/eventcast/media RECORDINGS_DIR=/var/lib/eventcast/recordings
EXPOSE 1935 1936 8000
# /ready: the command side answered ingest.node-started, publishes are accepted.
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.INGEST_HTTP_PORT||8000)+'/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
# --initial-old-space-size=96: INGEST_NODE_FLAGS of libs/launcher/src/processes.ts (no full GC every ≈ 2 s per
# broadcast; bench/results/ingest-cpu.md). Keep it in step with that constant (tests/infra checks it).
CMD ["node", "--initial-old-space-size=96", "dist/main.js"]
