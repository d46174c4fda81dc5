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
# Long end-to-end tests (`*.long-test.js`: a real-time broadcast of 10+ minutes, mostly waiting) run beside the rest,
# each on its own platform and ports, so the suite's wall time stays that of its longest part.
mapfile -t long_files < <(find tests -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.long-test.js' -print | sort)
long_pid=""
if [ "${#long_files[@]}" -gt 0 ]; then
  say "starting ${#long_files[@]} long test file(s) in the background (log: .eventcast/long-tests.log)"
  node --test --test-concurrency=1 --test-timeout=1800000 "${long_files[@]}" >.eventcast/long-tests.log 2>&1 &
  long_pid=$!
fi
say "running ${#files[@]} test files"
rc=0
node --test --test-concurrency=1 --test-timeout=300000 "${files[@]}" || rc=$?
if [ -n "$long_pid" ]; then
  say "waiting for the long test file(s)"
  long_rc=0
  wait "$long_pid" || long_rc=$?
  cat .eventcast/long-tests.log
  [ "$long_rc" -eq 0 ] || { say "long tests failed ($long_rc)"; rc=1; }
fi
exit "$rc"
