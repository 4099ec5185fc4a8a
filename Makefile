# Two commands for a fresh machine (README):
#   make dev    install what is missing, pick an identity provider, serve on http://localhost:3000
#   make test   install what is missing, then every check and test CI runs
# Every install step checks first, so a warm machine skips it.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

CARGO_LEPTOS_VERSION := 0.3.10
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION := $(shell awk '/^name = "wasm-bindgen"$$/ {getline; gsub(/"/, "", $$3); print $$3}' Cargo.lock)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help deps deps-rust deps-node deps-browser deps-services dev env build build-release \
        test lint unit e2e e2e-scaled bench clean

help:
	@echo "make dev     install what is missing and run the app on http://localhost:3000"
	@echo "make test    install what is missing and run every check and test"
	@echo "make bench   build the release app and measure speed, size and memory"

## ---- installs (each one only when missing) ------------------------------------------

deps: deps-rust deps-node

deps-rust:
	@command -v cargo >/dev/null || { echo "error: Rust is missing: install it from https://rustup.rs" >&2; exit 1; }
	@if command -v rustup >/dev/null && ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then \
	  echo "--- rustup target add wasm32-unknown-unknown"; rustup target add wasm32-unknown-unknown; fi
	@if ! cargo leptos --version 2>/dev/null | grep -q "$(CARGO_LEPTOS_VERSION)"; then \
	  echo "--- installing cargo-leptos $(CARGO_LEPTOS_VERSION) (about 12 minutes on 2 cores)"; \
	  cargo install cargo-leptos --version $(CARGO_LEPTOS_VERSION) --locked --features no_downloads; fi
	@if ! wasm-bindgen --version 2>/dev/null | grep -q "$(WASM_BINDGEN_VERSION)"; then \
	  echo "--- installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
	  cargo install wasm-bindgen-cli --version $(WASM_BINDGEN_VERSION) --locked; fi

deps-node:
	@if ! command -v npm >/dev/null; then \
	  if command -v apt-get >/dev/null; then echo "--- installing Node.js"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq nodejs npm; \
	  else echo "error: Node.js 20+ and npm are missing: install them (e.g. brew install node)" >&2; exit 1; fi; fi
	@# wasm-opt for release builds: cargo-leptos finds it in node_modules/.bin. The stylesheet is
	@# plain CSS, which cargo-leptos builds itself: `cargo leptos watch` needs nothing from npm.
	@if [ ! -x node_modules/.bin/wasm-opt ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then \
	  echo "--- npm ci (binaryen: wasm-opt)"; npm ci --no-audit --no-fund; fi

deps-browser: deps-node
	@if [ ! -d end2end/node_modules/@playwright/test ] || [ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]; then \
	  echo "--- npm ci in end2end (Playwright, oidc-provider)"; \
	  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund); fi
	@# Debian's chromium where apt is available; elsewhere (macOS) Playwright's own browser.
	@if [ -n "$${CHROMIUM_PATH:-}" ] || command -v chromium >/dev/null; then :; \
	elif command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then \
	  echo "--- installing chromium (Debian)"; $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; \
	else echo "--- installing Playwright's chromium"; (cd end2end && npx playwright install chromium); fi

# redis-server and nginx for the scaled topology (scripts/topology.sh): Debian's packages where
# apt is available. Debian puts nginx in /usr/sbin, which is not on a normal user's PATH.
deps-services:
	@missing=""; \
	{ command -v redis-server >/dev/null && command -v redis-cli >/dev/null; } || missing=" redis-server"; \
	command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing="$$missing nginx"; \
	if [ -z "$$missing" ]; then :; \
	elif command -v apt-get >/dev/null && { [ "$$(id -u)" = 0 ] || command -v sudo >/dev/null; }; then \
	  echo "--- installing$$missing (Debian)"; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq$$missing; \
	elif command -v apt-get >/dev/null; then \
	  echo "error: missing$$missing: as root, run: apt-get install -y$$missing" >&2; exit 1; \
	else \
	  echo "error: missing$$missing: install them with Homebrew: brew install$${missing/redis-server/redis}" >&2; exit 1; fi

## ---- run ----------------------------------------------------------------------------

# A .env with a generated APP_SECRET_KEY, so sessions survive restarts of `make dev`.
env:
	@if [ ! -f .env ]; then \
	  key=$$(openssl rand -base64 48 2>/dev/null || head -c 48 /dev/urandom | base64 | tr -d '\n'); \
	  sed "s|^APP_SECRET_KEY=.*|APP_SECRET_KEY=$$key|" .env.example > .env; \
	  echo "--- wrote .env from .env.example with a new APP_SECRET_KEY"; fi

dev: deps deps-browser env
	@./scripts/dev.sh

build: deps
	cargo leptos build

# --precompress: .gz and .br beside each asset, served as they are (no compression per request).
build-release: deps
	cargo leptos build --release --precompress

## ---- test ---------------------------------------------------------------------------

test: deps deps-browser deps-services lint unit e2e
	@echo "make test: all checks passed"

lint: deps
	cargo fmt --all --check
	cargo clippy -p fusionauth-leptos --features ssr --all-targets -- -D warnings
	cargo clippy -p fusionauth-leptos --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p setup -p fusionauth-defaults --all-targets -- -D warnings
	cargo clippy -p axum-oidc-sessions -p testkit -p topology -p axum-minimal --all-targets -- -D warnings
	cargo clippy -p axum-oidc-sessions --features leptos-ssr --all-targets -- -D warnings
	cargo clippy -p axum-oidc-sessions --no-default-features --lib --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p axum-oidc-sessions --no-default-features --features leptos --lib --target wasm32-unknown-unknown -- -D warnings
	@# examples/leptos-minimal is a workspace of its own (cargo-leptos builds every Leptos
	@# project of a workspace); it shares this target directory.
	cargo fmt --manifest-path examples/leptos-minimal/Cargo.toml --check
	CARGO_TARGET_DIR="$(CURDIR)/target" cargo clippy --manifest-path examples/leptos-minimal/Cargo.toml --features ssr --all-targets -- -D warnings
	CARGO_TARGET_DIR="$(CURDIR)/target" cargo clippy --manifest-path examples/leptos-minimal/Cargo.toml --features hydrate --lib --target wasm32-unknown-unknown -- -D warnings
	cargo clippy -p bench --all-targets -- -D warnings

# The examples log in through the stand-in provider (node, end2end/node_modules).
unit: deps deps-browser deps-services
	cargo test -p fusionauth-leptos --features ssr
	cargo test -p axum-oidc-sessions --features leptos-ssr
	RUSTDOCFLAGS="-D warnings" cargo doc -p axum-oidc-sessions --features leptos-ssr --no-deps
	cargo package -p axum-oidc-sessions --allow-dirty
	cargo test -p axum-minimal
	CARGO_TARGET_DIR="$(CURDIR)/target" cargo test --manifest-path examples/leptos-minimal/Cargo.toml --features ssr
	cargo test -p setup
	cargo test -p topology
	cargo test -p bench
	./setup/scripts/check-compose.sh

# The server started by hand without LEPTOS_HASH_FILES serves the hashed assets it links; then
# the Playwright suite twice: against one app process with its SQLite store, then against the
# scaled topology (crates/topology, run by scripts/topology.sh: nginx on :3000, two replicas,
# sessions in Redis), which adds the specs under end2end/tests/scaled/.
e2e: deps deps-browser deps-services
	cargo leptos build
	cargo build -p topology
	PROFILE=debug ./scripts/check-hand-start.sh
	cd end2end && npm run --silent idp:check && npx playwright test
	cd end2end && E2E_TOPOLOGY=scaled npx playwright test

# Only the scaled run.
e2e-scaled: deps deps-browser deps-services
	cargo leptos build
	cargo build -p topology
	cd end2end && E2E_TOPOLOGY=scaled npx playwright test

bench: deps deps-browser deps-services build-release
	./bench/run.sh

clean:
	cargo clean
	rm -rf node_modules end2end/node_modules end2end/test-results end2end/playwright-report
