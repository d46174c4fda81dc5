#!/usr/bin/env bash
# Stops everything scripts/up.sh started: every app (SIGTERM, SIGKILL after 10 s) and their supervisor (pm2, home
# .eventcast/pm2). The services PostgreSQL, Redis and NATS keep running.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec "$ROOT/node_modules/.bin/node" libs/launcher/dist/cli.js down --root "$ROOT"
