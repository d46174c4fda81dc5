#!/usr/bin/env bash
# Shows each app of the platform started by scripts/up.sh: state (online, waiting restart, stopped, errored,
# missing), pid, restarts, uptime, memory. `--json` prints the same as JSON. Exit code 0 when every app is online,
# 3 otherwise.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
exec "$ROOT/node_modules/.bin/node" libs/launcher/dist/cli.js status --root "$ROOT" "$@"
