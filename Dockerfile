# syntax=docker/dockerfile:1
# The warden binary in a small image: `docker compose up --build` (see compose.yaml and
# README, "Running more than one instance").

# ---- build ------------------------------------------------------------------------------
# The toolchain of `rust-version` in Cargo.toml; Debian 12 like the runtime image below.
FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY clerk-emulator ./clerk-emulator
COPY src ./src
COPY migrations ./migrations
COPY style ./style
COPY public ./public
# Cargo wants every bench the manifest declares to exist, even for `--bin warden`.
COPY benches ./benches
# The registry and target folder live in BuildKit caches: a rebuild after a source change
# compiles the crate, not its 400 dependencies. The binary is copied out of the cache.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/usr/local/cargo/git \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin warden \
    && cp target/release/warden /usr/local/bin/warden

# ---- run --------------------------------------------------------------------------------
FROM debian:bookworm-slim
# ca-certificates: the Backend API and JWKS of clerk.com are reached over TLS with the
# system's roots.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home-dir /app --shell /usr/sbin/nologin warden
WORKDIR /app
COPY --from=build /usr/local/bin/warden /usr/local/bin/warden
# The stylesheet is compiled into the binary; the files of public/ are served from here.
COPY public ./public
USER warden
ENV APP_ENV=production \
    LEPTOS_SITE_ADDR=0.0.0.0:3000 \
    LEPTOS_SITE_ROOT=/app/public \
    WARDEN_DATA_DIR=/tmp/warden \
    RUST_LOG=info,sqlx=warn,tower_http=warn
EXPOSE 3000
# No curl in the image: bash's /dev/tcp asks /health (200 once the database answers).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/3000 && printf 'GET /health HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
# `warden` serves (and migrates first); `warden migrate` only migrates. SIGTERM (docker stop)
# finishes the requests in flight, then the outbox worker's round, then exits 0.
ENTRYPOINT ["warden"]
CMD ["serve"]
