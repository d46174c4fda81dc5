#!/usr/bin/env bash
# The whole test suite: setup (as the quick start), typecheck and lint every project, the web's unit tests (vitest),
# then every test file of the repo (unit, integration against the real PostgreSQL/NATS/Redis/ffmpeg, end-to-end in
# Chromium) in one node:test run.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/setup.sh"
cd "$ROOT"
say "typecheck and lint"
nx run-many -t typecheck lint --outputStyle=static >.eventcast/check.log 2>&1 || { tail -n 80 .eventcast/check.log; exit 1; }
# The web's unit tests (vitest, apps/web/test: chat state, realtime client against a WebSocket server, player).
say "web unit tests"
nx run @eventcast/web:test --outputStyle=static >.eventcast/web-test.log 2>&1 || { tail -n 80 .eventcast/web-test.log; exit 1; }
mapfile -t files < <(find libs apps tests -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.test.js' -print | sort)
# Tests that share one NATS (query-api's harness, the ingest's fake command side) get a throw-away anonymous
# nats-server for this run (NATS_URL); the platform itself never runs on an anonymous NATS.
if [ -z "${NATS_URL:-}" ]; then
  test_nats_port="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
  test_nats_dir="$(mktemp -d)"
  "$(command -v nats-server || echo /usr/sbin/nats-server)" -js -a 127.0.0.1 -p "$test_nats_port" -sd "$test_nats_dir" >/dev/null 2>&1 &
  test_nats_pid=$!
  trap 'kill "$test_nats_pid" 2>/dev/null; rm -rf "$test_nats_dir"' EXIT
  wait_port "$test_nats_port"
  export NATS_URL="nats://127.0.0.1:$test_nats_port"
fi
# Long end-to-end tests (`*.long-test.js`: a real-time broadcast of 10+ minutes, mostly waiting) run beside the unit
# and integration tests of libs/ and apps/, each on its own platform and ports; the whole-platform tests of tests/
# run after them, never beside another platform's long test (two full platforms at once disturbed each other's
# timing-sensitive end-to-end checks in a CI run).
mapfile -t long_files < <(find tests -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.long-test.js' -print | sort)
unit_files=()
e2e_files=()
for f in "${files[@]}"; do
  case "$f" in
    tests/*) e2e_files+=("$f") ;;
    *) unit_files+=("$f") ;;
  esac
done
long_pid=""
if [ "${#long_files[@]}" -gt 0 ]; then
  say "starting ${#long_files[@]} long test file(s) in the background (log: .eventcast/long-tests.log)"
  node --test --test-concurrency=1 --test-timeout=1800000 "${long_files[@]}" >.eventcast/long-tests.log 2>&1 &
  long_pid=$!
fi
rc=0
say "running ${#unit_files[@]} unit and integration test files"
node --test --test-concurrency=1 --test-timeout=300000 "${unit_files[@]}" || rc=$?
if [ -n "$long_pid" ]; then
  say "waiting for the long test file(s)"
  long_rc=0
  wait "$long_pid" || long_rc=$?
  cat .eventcast/long-tests.log
  [ "$long_rc" -eq 0 ] || { say "long tests failed ($long_rc)"; rc=1; }
fi
say "running ${#e2e_files[@]} end-to-end test files"
node --test --test-concurrency=1 --test-timeout=300000 "${e2e_files[@]}" || rc=1
exit "$rc"
