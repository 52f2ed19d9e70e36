# syntax=docker/dockerfile:1
# One image for the five services, the workbench and the operator CLI; docker-compose.yml picks the
# executable per container (`command: ["triage"]`, `command: ["proposals-ctl", ...]`).
#
#   docker build -t citizens-proposals .
#   docker run --rm citizens-proposals proposals-ctl --help

# ---------------------------------------------------------------------------------------
# Build: Swift 6.2 on Debian bookworm, so the librdkafka headers we compile against
# (librdkafka-dev 2.0.2) match the librdkafka1 the runtime stage installs.
# ---------------------------------------------------------------------------------------
FROM swift:6.2-bookworm AS build

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librdkafka-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /build

# Every directory the manifest names a target in: SwiftPM checks all target paths when it
# loads the package (resolving included), so Tests/ is needed although no test is built here.
COPY Package.swift ./
COPY Shared ./Shared
COPY Services ./Services
COPY ops ./ops
COPY Tests ./Tests
RUN swift package resolve

# Static Swift runtime: the runtime image needs no Swift toolchain, only librdkafka1 and libc.
# /staging receives the executables, the SwiftPM resource bundles (migrations, default rules,
# templates, openapi.json: Bundle.module looks for them next to the executable) and Swift's
# crash backtracer, so a crash logs a symbolicated stack (see SWIFT_BACKTRACE below).
ARG PRODUCTS="intake triage assignment supervision publicity workbench proposals-ctl"
RUN set -eu \
    && for product in $PRODUCTS; do \
         swift build -c release --static-swift-stdlib --product "$product"; \
       done \
    && bin="$(swift build -c release --static-swift-stdlib --show-bin-path)" \
    && mkdir -p /staging \
    && for product in $PRODUCTS; do cp "$bin/$product" /staging/; done \
    && find -L "$bin" -maxdepth 1 -type d -name '*.resources' -exec cp -R {} /staging/ \; \
    && cp /usr/libexec/swift/linux/swift-backtrace-static /staging/ \
    && chmod -R a+rX,go-w /staging

# ---------------------------------------------------------------------------------------
# Runtime: slim Debian with librdkafka (dynamically linked), CA certificates (TLS to
# PostgreSQL and Kafka), curl (container healthchecks) and tzdata (districts' time zones).
# ---------------------------------------------------------------------------------------
FROM debian:bookworm-slim AS runtime

RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get update \
    && apt-get install -y --no-install-recommends librdkafka1 ca-certificates curl tzdata \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged user; the binaries stay owned by root so the process cannot replace them.
RUN groupadd --system --gid 10001 proposals \
    && useradd --system --uid 10001 --gid proposals --home-dir /app --no-create-home \
         --shell /usr/sbin/nologin proposals

WORKDIR /app
COPY --from=build /staging /app

ENV PATH="/app:${PATH}" \
    HTTP_HOST=0.0.0.0 \
    TZ=Asia/Shanghai \
    SWIFT_BACKTRACE=enable=yes,sanitize=yes,threads=all,images=all,interactive=no,swift-backtrace=/app/swift-backtrace-static

# intake, triage, assignment, supervision, publicity; 9100 is `proposals-ctl dashboard`.
EXPOSE 8081 8082 8083 8084 8085 9100

USER proposals:proposals

# No default command: each container names its executable, e.g. `command: ["triage"]`.
# The executable runs as PID 1 and receives SIGTERM directly, so it drains and exits cleanly.
