#!/bin/sh
# Validates docker-compose.yml (both profiles) with `docker compose config`.
# Prints "SKIP: <reason>" and exits 0 where Docker Compose is not installed.
set -eu
cd "$(dirname "$0")/../.."
if ! command -v docker >/dev/null 2>&1; then
  echo "SKIP: docker compose config not run: the docker CLI is not installed"
  exit 0
fi
if ! docker compose version >/dev/null 2>&1; then
  echo "SKIP: docker compose config not run: the Docker Compose plugin is not installed (docker compose version failed)"
  exit 0
fi
docker compose --file docker-compose.yml config --quiet
docker compose --file docker-compose.yml --profile opensearch config --quiet
echo "OK: docker-compose.yml is valid (default and opensearch profiles)"
