#!/usr/bin/env bash
# Outbox relay benchmark: builds in release mode, starts a private PostgreSQL and Kafka mock
# cluster, runs bench-outbox (arguments pass through, e.g. --events 50000) and tears down.
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
build_quietly -c release --product bench-outbox
build_quietly -c release --product kafka-mock-broker
BIN="$(bin_path)"
teardown() { bash "$ROOT/ops/kafka.sh" stop || true; bash "$ROOT/ops/postgres.sh" stop || true; }
trap teardown EXIT
export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
"$BIN/bench-outbox" "$@"
