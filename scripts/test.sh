#!/usr/bin/env bash
# The whole test suite: setup (as the quick start), typecheck and lint every project, then every test file of the
# repo (unit, integration against the real PostgreSQL/NATS/Redis/ffmpeg, end-to-end in Chromium) in one node:test run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
say "typecheck and lint"
nx run-many -t typecheck lint --outputStyle=static >.eventcast/check.log 2>&1 || { tail -n 80 .eventcast/check.log; exit 1; }
mapfile -t files < <(find libs apps tests -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.test.js' -print | sort)
say "running ${#files[@]} test files"
exec node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}"
