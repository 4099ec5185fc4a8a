#!/bin/sh
# Starts FusionAuth with Docker Compose unless one already answers at $FUSIONAUTH_URL
# (default http://localhost:9011). Used by `make dev`; never fails the caller for a missing Docker.
set -eu
cd "$(dirname "$0")/../.."
url="${FUSIONAUTH_URL:-http://localhost:9011}"
if curl --silent --fail --output /dev/null --max-time 3 "$url/api/status"; then
  echo "FusionAuth already answers at $url"
  exit 0
fi
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
  echo "Starting FusionAuth with docker compose (first start: about 30 s)..."
  docker compose up -d --wait
  echo "FusionAuth is ready at $url (admin UI: $url/admin)"
else
  echo "FusionAuth does not answer at $url and Docker Compose is not available:"
  echo "  start FusionAuth yourself and run 'cargo run --bin setup' (see README, FusionAuth)."
fi
