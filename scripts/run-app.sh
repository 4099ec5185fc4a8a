#!/usr/bin/env bash
# Runs the already-built server (`cargo leptos build [--release]`) directly, without cargo-leptos.
# Used by the Playwright suite and the benchmark. PROFILE=debug|release (default debug).
# Every LEPTOS_* value can be overridden from the environment; CARGO_TARGET_DIR is honoured.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
profile="${PROFILE:-debug}"
bin="${CARGO_TARGET_DIR:-$root/target}/$profile/fusionauth-leptos"
if [[ ! -x "$bin" ]]; then
  echo "error: $bin is missing: build it first (make build)" >&2
  exit 2
fi
export LEPTOS_OUTPUT_NAME="${LEPTOS_OUTPUT_NAME:-fusionauth-leptos}"
export LEPTOS_SITE_ROOT="${LEPTOS_SITE_ROOT:-$root/target/site}"
export LEPTOS_SITE_PKG_DIR="${LEPTOS_SITE_PKG_DIR:-pkg}"
export LEPTOS_SITE_ADDR="${LEPTOS_SITE_ADDR:-127.0.0.1:3000}"
export LEPTOS_ENV="${LEPTOS_ENV:-PROD}"
# cargo-leptos builds with `hash-files` (Cargo.toml): asset names come from hash.txt beside the binary.
export LEPTOS_HASH_FILES="${LEPTOS_HASH_FILES:-true}"
exec "$bin"
