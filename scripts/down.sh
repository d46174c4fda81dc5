#!/usr/bin/env bash
# Stops the apps started by scripts/up.sh and then the platform's own nats-server (PostgreSQL and Redis keep running).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec "$ROOT/node_modules/.bin/node" libs/launcher/dist/cli.js down --root "$ROOT"
