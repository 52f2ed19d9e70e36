#!/usr/bin/env bash
# Publicity benchmark, built in release mode: a private PostgreSQL and Kafka mock cluster are
# started; a district's store is filled as the upstream services leave it for 100,000 filed
# proposals (clues, proposals, assignments, replies, closures) and their events (about 4.9 per
# proposal) are published, in rounds of 20,000 proposals the mock broker can hold; after each
# round the publicity service (--instances of it in one consumer group) starts on that backlog:
#   1. catch-up: events/s while it builds the public read model, against ≥ 5,000/s;
#   2. the feedback list: 100 concurrent readers for 20 s (first pages of the whole and of
#      filtered lists, --deep-percent pages anywhere in the list): p50/p90/p99/max per page against
#      p99 ≤ 50 ms, with the page cache as deployed; --no-cache adds a round without it; --wrk
#      drives the readers with wrk instead of the benchmark's own HTTP client.
#
#   ops/bench/publicity/run.sh [--proposals N] [--round N] [--instances N] [--readers N] [--seconds N]
#                              [--deep-percent N] [--consumer-batch N] [--cache-seconds N] [--no-cache] [--wrk PATH]
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench-publicity}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
build_quietly -c release --product bench-publicity
build_quietly -c release --product kafka-mock-broker
BIN="$(bin_path)"

teardown() { bash "$ROOT/ops/kafka.sh" stop || true; bash "$ROOT/ops/postgres.sh" stop || true; }
trap teardown EXIT
bash "$ROOT/ops/kafka.sh" stop >/dev/null 2>&1 || true
bash "$ROOT/ops/postgres.sh" reset >/dev/null 2>&1 || true
export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
say "publicity: read-model catch-up and the feedback list under readers"
"$BIN/bench-publicity" "$@"
