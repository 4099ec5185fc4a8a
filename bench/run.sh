#!/usr/bin/env bash
# `make bench`, after `make build-release` and `make deps-services` (Redis and nginx, for the
# scaled topology): installs what else the benchmark needs when it is missing (wrk, the
# stand-in provider's npm packages), builds the bench binary with the same release profile as
# the app, and runs it. Prints the report and writes it to bench/results/latest.md.
# Settings: BENCH_* variables (bench/README.md).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
sudo=""
[ "$(id -u)" = 0 ] || sudo="sudo"

# hash.txt: cargo-leptos's `hash-files` names the bundle after its content (Cargo.toml).
if [ ! -x target/release/fusionauth-leptos ] || [ ! -f target/release/hash.txt ]; then
  echo "error: the release app is missing: run \`make build-release\` (cargo leptos build --release) first" >&2
  exit 2
fi
if ! command -v wrk >/dev/null; then
  echo "--- installing wrk (Debian)"
  $sudo apt-get update -qq && $sudo apt-get install -y -qq wrk
fi
if [ "${BENCH_SCALED:-1}" != 0 ]; then
  for tool in redis-server redis-cli; do
    command -v "$tool" >/dev/null || { echo "error: $tool is missing (the scaled topology): run \`make deps-services\`, or BENCH_SCALED=0" >&2; exit 2; }
  done
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] \
    || { echo "error: nginx is missing (the scaled topology): run \`make deps-services\`, or BENCH_SCALED=0" >&2; exit 2; }
fi
command -v node >/dev/null || { echo "error: Node.js is missing (the stand-in provider runs on it)" >&2; exit 2; }
if [ ! -d end2end/node_modules/oidc-provider ]; then
  echo "--- npm ci in end2end (the stand-in provider)"
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
cargo build --release -p bench
exec target/release/bench run
