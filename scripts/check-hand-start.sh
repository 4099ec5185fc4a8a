#!/usr/bin/env bash
# Starts the built server by hand, the way cargo-leptos leaves it: the LEPTOS_* variables
# scripts/run-app.sh sets, but no LEPTOS_HASH_FILES. The server must find the hash file
# beside the binary by itself, so the page links the hashed js, wasm and css that the build
# wrote: checks that `/` links them and that each is served (200).
# PROFILE=release|debug (default release; build it first), CHECK_PORT (default 3399).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile="${PROFILE:-release}"
bin="$root/target/$profile/fusionauth-leptos"
port="${CHECK_PORT:-3399}"
base="http://127.0.0.1:$port"
[[ -x "$bin" ]] || { echo "error: $bin is missing: build it first (cargo leptos build${profile/debug/})" >&2; exit 2; }

log="$(mktemp)"
db_dir="$(mktemp -d)"
# No LEPTOS_HASH_FILES, no .env (another working directory): only what is set here.
(
  cd "$db_dir"
  unset LEPTOS_HASH_FILES LEPTOS_HASH_FILE_NAME
  exec env LEPTOS_OUTPUT_NAME=fusionauth-leptos LEPTOS_SITE_ROOT="$root/target/site" LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR="127.0.0.1:$port" LEPTOS_ENV=PROD SESSION_DB="$db_dir/sessions.db" \
    APP_SECRET_KEY=check-hand-start-only-0123456789abcdefghijklmnopqrstuvwxyz RUST_LOG=info "$bin"
) >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$log" "$db_dir"' EXIT

for _ in $(seq 1 100); do
  curl --silent --fail --output /dev/null "$base/healthz" && break
  kill -0 "$pid" 2>/dev/null || { echo "error: the server exited:" >&2; cat "$log" >&2; exit 1; }
  sleep 0.1
done

html="$(curl --silent --fail "$base/")"
# Every /pkg/ file the page links (stylesheet, module and wasm preloads).
assets="$(grep -oE '/pkg/[A-Za-z0-9._-]+' <<<"$html" | sort -u || true)"
failed=0
for ext in css js wasm; do
  grep -qE "^/pkg/fusionauth-leptos\.[A-Za-z0-9_-]{22}\.$ext\$" <<<"$assets" \
    || { echo "FAIL: / links no hashed .$ext file"; failed=1; }
done
for asset in $assets; do
  status="$(curl --silent --output /dev/null --write-out '%{http_code}' "$base$asset")"
  echo "$status $asset"
  [[ "$status" == 200 ]] || failed=1
done
if [[ "$failed" != 0 ]]; then
  echo "error: $profile binary started without LEPTOS_HASH_FILES links assets it cannot serve; its log:" >&2
  cat "$log" >&2
  exit 1
fi
grep -o 'LEPTOS_HASH_FILES is unset[^"]*names' "$log" || true
echo "ok: the $profile binary started by hand serves the hashed assets it links"
