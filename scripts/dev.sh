#!/usr/bin/env bash
# `make dev`: find an identity provider, then serve the app with `cargo leptos watch`.
#   1. FusionAuth (or any provider) already answering at ISSUER: use it.
#   2. Docker with Compose and a running engine: start FusionAuth (docker-compose.yml).
#   3. Otherwise: start the FusionAuth-shaped stand-in (end2end/idp, a test double) at ISSUER.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

env_value() { sed -n "s/^$1=//p" .env 2>/dev/null | head -n1; }
issuer="${ISSUER:-$(env_value ISSUER)}"; issuer="${issuer:-http://localhost:9011}"
app_url="${APP_URL:-$(env_value APP_URL)}"; app_url="${app_url:-http://localhost:3000}"

answers() { curl --silent --fail --output /dev/null --max-time 3 "$issuer/.well-known/openid-configuration"; }

if answers; then
  echo "--- using the identity provider at $issuer"
elif command -v docker >/dev/null && docker compose version >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
  echo "--- starting FusionAuth with docker compose"
  FUSIONAUTH_URL="$issuer" ./setup/scripts/fusionauth-up.sh
else
  port="${issuer##*:}"; port="${port%%/*}"
  case "$issuer" in
    http://localhost:*|http://127.0.0.1:*) ;;
    *) echo "error: nothing answers at ISSUER=$issuer; start FusionAuth there (see README)" >&2; exit 1 ;;
  esac
  mkdir -p .data
  echo "--- FusionAuth is not answering at $issuer and Docker is not available:"
  echo "    starting the stand-in provider (end2end/idp: a development double, not FusionAuth)."
  echo "    Log in as richard@example.com / password. Its log: .data/idp.log"
  ISSUER="$issuer" IDP_PORT="$port" APP_URL="$app_url" node end2end/idp/server.mjs >.data/idp.log 2>&1 &
  idp_pid=$!
  trap 'kill "$idp_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 1 50); do answers && break; sleep 0.2; done
  answers || { echo "error: the stand-in did not start; see .data/idp.log" >&2; exit 1; }
fi

echo "--- serving on $app_url (Ctrl-C stops)"
cargo leptos watch
