#!/usr/bin/env bash
# The scaled topology on loopback (crates/topology; `scripts/topology.sh help`), built by `cargo build -p topology`.
bin="${CARGO_TARGET_DIR:-$(dirname "${BASH_SOURCE[0]}")/../target}/debug/topology"
[[ -x "$bin" ]] || { echo "error: $bin is missing: build it first (cargo build -p topology)" >&2; exit 2; }
exec "$bin" "$@"
