#!/usr/bin/env bash
# Quick start: installs what is missing, starts the services and whatever of the five apps is not running (a running
# app is left alone), under a supervisor that restarts an app that dies (pm2, home .eventcast/pm2), and prints the URL
# to open. See also scripts/status.sh and scripts/down.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec node libs/launcher/dist/cli.js up --root "$ROOT" "$@"
