#!/usr/bin/env bash
# Prepares this machine for Eventcast: installs what is missing (Debian packages: postgresql, redis-server,
# nats-server, ffmpeg, chromium; for the test suite also caddy, nginx, prometheus for tests/infra), starts PostgreSQL and Redis where they are not running (the platform's own NATS is
# started by `eventcast-platform up`),
# installs the npm dependencies (with Node 22 from the npm package `node@22`) and builds every app.
# Idempotent: safe to run again; sourced by up.sh and test.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .eventcast
say() { printf '\033[1;34m[eventcast]\033[0m %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then command -v sudo >/dev/null && SUDO="sudo"; fi

# 1. System packages.
need=()
[ -n "$(ls /usr/lib/postgresql/*/bin/postgres 2>/dev/null)" ] || need+=(postgresql)
command -v redis-server >/dev/null || need+=(redis-server)
command -v nats-server >/dev/null || [ -x /usr/sbin/nats-server ] || need+=(nats-server)
command -v ffmpeg >/dev/null || need+=(ffmpeg)
command -v chromium >/dev/null || need+=(chromium)
command -v npm >/dev/null || need+=(nodejs npm)
if [ "${#need[@]}" -gt 0 ]; then
  say "installing Debian packages: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

# 1b. Validators of infra/ for tests/infra (caddy, nginx, promtool of the package prometheus, openssl): installed only
# when the test suite runs (scripts/test.sh sources this file; up.sh does not need them) and never left running — a
# policy-rc.d refuses every service start during the install, and on a systemd host their units are disabled again.
if [ "$(basename "${BASH_SOURCE[1]:-}")" = test.sh ]; then
  infra_need=()
  command -v caddy >/dev/null || infra_need+=(caddy)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || infra_need+=(nginx)
  command -v promtool >/dev/null || infra_need+=(prometheus)
  command -v openssl >/dev/null || infra_need+=(openssl)
  if [ "${#infra_need[@]}" -gt 0 ]; then
    say "installing the infra/ validators, not started: ${infra_need[*]}"
    policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
      policy=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
      $SUDO chmod 755 "$policy"
    fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${infra_need[@]}" >/dev/null
    if [ -n "$policy" ]; then $SUDO rm -f "$policy"; fi
    if [ -d /run/systemd/system ]; then $SUDO systemctl disable --now caddy nginx prometheus >/dev/null 2>&1 || true; fi
  fi
fi

# 2. Services.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 100); do port_open "$1" && return 0; sleep 0.2; done; say "nothing listens on port $1"; return 1; }

if ! port_open 5432; then
  say "starting PostgreSQL"
  ver="$(ls /etc/postgresql | sort -V | tail -n 1)"
  [ -d "/etc/postgresql/$ver/main" ] || $SUDO pg_createcluster "$ver" main >/dev/null
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start
  wait_port 5432
fi
if ! psql -h 127.0.0.1 -U postgres -d postgres -Atqc 'select 1' >/dev/null 2>&1; then
  # A fresh Debian cluster asks for a password over TCP: let local development connect as postgres (loopback only).
  hba="$(ls /etc/postgresql/*/main/pg_hba.conf | sort -V | tail -n 1)"
  say "allowing trust auth for postgres on 127.0.0.1 in $hba (local development only)"
  $SUDO sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$(basename "$(dirname "$(dirname "$hba")")")" main reload
  sleep 1
fi
if ! port_open 6379; then
  say "starting Redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  wait_port 6379
fi
# NATS: not started here. `eventcast-platform up` (libs/launcher/src/nats-server.ts) runs the platform's own
# nats-server with authentication and per-app permissions (config generated into .eventcast/nats/nats.conf,
# passwords in .eventcast/secrets.env, port 4223, store .eventcast/nats/store); a machine's plain NATS on 4222
# is neither needed nor used.

# 3. npm dependencies (Node 22 comes as the `node` devDependency) and the build.
if [ ! -x node_modules/.bin/node ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm dependencies (npm ci: exactly the versions in package-lock.json)"
  # `npm ci` refuses a lock file out of sync with package.json instead of resolving anew, so a fresh clone gets
  # what was tested. The lock must list every platform's optional native package (nx ships one per OS: npm ci
  # checks them all, installs only this machine's); `npm install` on any machine keeps them. No install-time
  # telemetry: swagger-ui-dist's @scarf/scarf is off by package.json scarfSettings, SCARF_ANALYTICS and allowScripts.
  SCARF_ANALYTICS=false npm ci --no-audit --no-fund --loglevel=error
fi
export PATH="$ROOT/node_modules/.bin:$PATH"
case "$(node -v)" in v22.*) ;; *) say "expected Node 22, got $(node -v)"; exit 1 ;; esac
export NX_DAEMON=false NX_NO_CLOUD=true NX_TUI=false NX_SKIP_NX_CACHE="${CI:+true}"
say "building"
nx run-many -t build --outputStyle=static >.eventcast/build.log 2>&1 || { tail -n 60 .eventcast/build.log; exit 1; }
