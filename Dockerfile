# syntax=docker/dockerfile:1
# The app as a container image, built exactly as `make build-release` builds it:
#
#   docker build -t fusionauth-leptos .
#   docker run --rm -p 127.0.0.1:3000:3000 -e APP_SECRET_KEY="$(openssl rand -base64 48)" \
#     -e ISSUER=https://auth.example.com -e APP_URL=https://app.example.com fusionauth-leptos
#
# docker-compose.yml's `scaled` profile builds it for its two replicas. Every variable of the
# README's Configuration table applies; a release build needs APP_SECRET_KEY.

ARG RUST_IMAGE=rust:1.95-slim-bookworm
# wasm-opt (binaryen) runs on Node; Debian bookworm's own Node is 18, past its end of life.
ARG NODE_IMAGE=node:22-bookworm-slim

FROM ${NODE_IMAGE} AS node

FROM ${RUST_IMAGE} AS builder
# make and perl: cargo-leptos builds a vendored OpenSSL (through cargo-generate). The image
# already has gcc, which ring, SQLite and mimalloc need.
RUN apt-get update \
 && apt-get install -y --no-install-recommends make perl \
 && rm -rf /var/lib/apt/lists/*
COPY --from=node /usr/local/bin/node /usr/local/bin/node
COPY --from=node /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/npm
RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm \
 && node --version && npm --version
RUN rustup target add wasm32-unknown-unknown

# The tools, each in its own layer so a source change does not rebuild them.
ARG CARGO_LEPTOS_VERSION=0.3.10
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    cargo install cargo-leptos --version "${CARGO_LEPTOS_VERSION}" --locked --features no_downloads
WORKDIR /src
COPY Cargo.lock ./
# The wasm-bindgen CLI must equal the wasm-bindgen crate in Cargo.lock exactly; read it there,
# as the Makefile does.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    version="$(awk '/^name = "wasm-bindgen"$/ {getline; gsub(/"/, "", $3); print $3}' Cargo.lock)" \
 && test -n "$version" \
 && cargo install wasm-bindgen-cli --version "$version" --locked
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY . .
# The commit the metrics' build info names (build.rs; .git stays out of the build context):
#   docker build --build-arg GIT_COMMIT="$(git rev-parse --short HEAD)" .
ARG GIT_COMMIT=unknown
# target/ is a cache mount (kept between builds, absent from the image), so what the runtime
# needs is copied out in the same step: the server, hash.txt (the hashed asset names the server
# reads beside its binary, Cargo.toml's `hash-files`) and the site with its .gz/.br files.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target,id=fusionauth-leptos-target \
    cargo leptos build --release --precompress \
 && mkdir -p /out \
 && cp target/release/fusionauth-leptos target/release/hash.txt /out/ \
 && cp -r target/site /out/site

FROM debian:bookworm-slim AS runtime
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# An unprivileged user that owns only the session database's directory (SQLite, used when
# REDIS_URL is unset); the program and the site stay root's, read-only to it.
RUN useradd --system --uid 10001 --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin app \
 && install -d -o app -g app -m 0700 /var/lib/fusionauth-leptos
WORKDIR /app
COPY --from=builder /out/fusionauth-leptos /out/hash.txt /app/
COPY --from=builder /out/site /app/site
# What cargo-leptos would set (scripts/run-app.sh sets the same), listening on every interface.
ENV LEPTOS_OUTPUT_NAME=fusionauth-leptos \
    LEPTOS_SITE_ROOT=/app/site \
    LEPTOS_SITE_PKG_DIR=pkg \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_ENV=PROD \
    LEPTOS_HASH_FILES=true \
    SESSION_DB=/var/lib/fusionauth-leptos/sessions.db \
    RUST_LOG=info
USER app
EXPOSE 3000
# No curl in the image: bash (part of every Debian) sends the request itself, to the port of
# LEPTOS_SITE_ADDR, and wants a 200 from /readyz (ready or degraded; 503 while the session
# store is down).
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${LEPTOS_SITE_ADDR##*:} && printf 'GET /readyz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && head -n 1 <&3 | grep -q ' 200 '"]
CMD ["/app/fusionauth-leptos"]
