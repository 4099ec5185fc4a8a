#!/bin/sh
# Checks the deployment files that the Rust tests cannot run:
#   1. docker-compose.yml, every profile (default, opensearch, scaled), with `docker compose config`;
#   2. deploy/nginx.local.conf with `nginx -t`, as is and with its ports rewritten the documented
#      way; deploy/nginx.conf (the compose one) likewise, its container-only names replaced;
#      both share one `location /` block.
# A check whose tool is missing prints "SKIP: <reason>" and the script goes on (exit 0);
# any failure exits non-zero. Nothing here can build or start a container (that needs a Docker
# engine), so the Dockerfile is checked by setup/tests/consistency.rs only.
set -eu
cd "$(dirname "$0")/../.."

fail() { echo "FAIL: $*" >&2; exit 1; }

check_compose() {
  if ! command -v docker >/dev/null 2>&1; then
    echo "SKIP: docker compose config not run: the docker CLI is not installed"
    return 0
  fi
  if ! docker compose version >/dev/null 2>&1; then
    echo "SKIP: docker compose config not run: the Docker Compose plugin is not installed (docker compose version failed)"
    return 0
  fi
  docker compose --file docker-compose.yml config --quiet
  docker compose --file docker-compose.yml --profile opensearch config --quiet
  # Without APP_SECRET_KEY too: the scaled profile must not make Compose refuse the file.
  APP_SECRET_KEY= docker compose --file docker-compose.yml --profile scaled config --quiet
  services=$(docker compose --file docker-compose.yml --profile scaled config --services | sort | tr '\n' ' ')
  [ "$services" = "app-a app-b db fusionauth nginx redis " ] \
    || fail "the scaled profile has the services: $services"
  echo "OK: docker-compose.yml is valid (default, opensearch and scaled profiles)"
}

# The `location / { ... }` block of an nginx configuration file.
location_block() {
  sed -n '/^[[:space:]]*location \/ {/,/^[[:space:]]*}/p' "$1"
}

check_nginx() {
  if ! command -v nginx >/dev/null 2>&1; then
    echo "SKIP: nginx -t not run: nginx is not installed (apt-get install -y nginx)"
    return 0
  fi
  prefix=$(mktemp -d)
  trap 'rm -rf "$prefix"' EXIT
  mkdir -p "$prefix/logs" "$prefix/tmp"
  local_conf="$PWD/deploy/nginx.local.conf"
  nginx -t -q -p "$prefix/" -c "$local_conf" -e stderr

  for address in 127.0.0.1:3000 127.0.0.1:3101 127.0.0.1:3102; do
    [ "$(grep -c "$address" "$local_conf")" = 1 ] \
      || fail "$address must appear exactly once in deploy/nginx.local.conf (its header's sed relies on it)"
  done
  sed -e 's/127\.0\.0\.1:3000/127.0.0.1:4000/' \
      -e 's/127\.0\.0\.1:3101/127.0.0.1:4101/' \
      -e 's/127\.0\.0\.1:3102/127.0.0.1:4102/' \
      "$local_conf" > "$prefix/ports.conf"
  nginx -t -q -p "$prefix/" -c "$prefix/ports.conf" -e stderr
  for line in "listen 127.0.0.1:4000;" "server 127.0.0.1:4101 " "server 127.0.0.1:4102 "; do
    grep -q "$line" "$prefix/ports.conf" || fail "the documented sed does not yield \"$line\""
  done

  # The compose file's nginx.conf outside its container: no nginx user, no fusionauth host.
  sed -e '/^user /d' -e 's/server fusionauth:/server 127.0.0.1:/' -e 's|^pid .*|pid nginx.pid;|' \
    deploy/nginx.conf > "$prefix/compose.conf"
  nginx -t -q -p "$prefix/" -c "$prefix/compose.conf" -e stderr

  location_block deploy/nginx.conf > "$prefix/compose.location"
  location_block "$local_conf" > "$prefix/local.location"
  [ -s "$prefix/local.location" ] || fail "no location / block in deploy/nginx.local.conf"
  diff -u "$prefix/compose.location" "$prefix/local.location" \
    || fail "deploy/nginx.conf and deploy/nginx.local.conf proxy differently (their location / blocks differ)"
  echo "OK: deploy/nginx.local.conf and deploy/nginx.conf pass nginx -t; the local ports can be rewritten"
}

check_compose
check_nginx
