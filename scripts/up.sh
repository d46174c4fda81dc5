#!/usr/bin/env bash
# Quick start: installs what is missing, starts the services and all five apps, and prints the URL to open.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
exec node libs/launcher/dist/cli.js up --root "$ROOT" "$@"
