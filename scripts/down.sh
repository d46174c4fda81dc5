#!/usr/bin/env bash
# Stops everything scripts/up.sh started: every app (SIGTERM, SIGKILL after 10 s), their supervisor (pm2, home
# .eventcast/pm2) and the platform's own nats-server. PostgreSQL and Redis keep running.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec "$ROOT/node_modules/.bin/node" libs/launcher/dist/cli.js down --root "$ROOT"
