#!/usr/bin/env bash
# Writes infra/.env for infra/compose.yaml from infra/env.example: the domain given and a fresh random value for
# every `change-me` secret (openssl). Refuses to overwrite an existing infra/.env (its secrets guard stored data).
# Usage: infra/gen-env.sh stream.example.com
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
domain="${1:?usage: $0 DOMAIN}"
out="$here/.env"
[ -e "$out" ] && { echo "$out exists: not overwritten" >&2; exit 1; }
umask 077
while IFS= read -r line; do
  case "$line" in
    EVENTCAST_DOMAIN=*) echo "EVENTCAST_DOMAIN=$domain" ;;
    NATS_PASSWORD_*=change-me|GRAFANA_ADMIN_PASSWORD=change-me|POSTGRES_PASSWORD=change-me)
      echo "${line%%=*}=$(openssl rand -base64 33 | tr -d '/+=\n')" ;;
    *=change-me) echo "${line%%=*}=$(openssl rand -hex 32)" ;;
    *) echo "$line" ;;
  esac
done <"$here/env.example" >"$out"
echo "wrote $out (mode 600)"
