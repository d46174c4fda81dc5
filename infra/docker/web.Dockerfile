# syntax=docker/dockerfile:1.7
# Eventcast web: the SvelteKit site (adapter-node output in apps/web/build; PUBLIC_* read at start, not at build).
# Build from the repository root (the build context; /.dockerignore keeps node_modules, dist and .eventcast out):
#   docker build -f infra/docker/web.Dockerfile -t eventcast/web .
# infra/compose.yaml builds it so. Stage 1 installs exactly package-lock.json and builds; stage 2 keeps the
# production dependencies and the built output, runs as the unprivileged user `node` (uid 1000).
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
ENV NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false SCARF_ANALYTICS=false
COPY . .
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund --loglevel=error
RUN npx tsc -b libs/contracts && npm run build -w @eventcast/web \
 && npm prune --omit=dev --no-audit --no-fund --loglevel=error

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=root:root /src/package.json ./
COPY --from=build --chown=root:root /src/node_modules ./node_modules
COPY --from=build --chown=root:root /src/libs ./libs
COPY --from=build --chown=root:root /src/apps/web/package.json ./apps/web/package.json
COPY --from=build --chown=root:root /src/apps/web/build ./apps/web/build
USER node
WORKDIR /app/apps/web
# adapter-node reads PORT and HOST.
ENV PORT=3000 HOST=0.0.0.0
EXPOSE 3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
STOPSIGNAL SIGTERM
CMD ["node", "build"]
