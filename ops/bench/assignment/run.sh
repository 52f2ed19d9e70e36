#!/usr/bin/env bash
# Assignment benchmarks, built in release mode:
#   1. one suggestion in memory on one core (signature + nearest past proposals + ranking of
#      500 units) with 100,000 past proposals: p50/p90/p99/max against p99 ≤ 20 ms, and how often
#      the top suggested lead is the unit the generated proposal was written for;
#   2. taking filed proposals in end to end: a private PostgreSQL and Kafka mock cluster are
#      started, the district's directory and past proposals preloaded, new proposals filed and
#      announced on triage-events, then the assignment service consumes the backlog, suggests,
#      assigns automatically where confident and commits: events/s against ≥ 1,000/s.
#
#   ops/bench/assignment/run.sh [--pipeline-only] [--past N] [--measure N] [--instances N] [--consumer-batch N]
#   (the options are the pipeline's; the suggestion runs with its defaults, see bench-assignment suggest --help)
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench-assignment}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
build_quietly -c release --product bench-assignment
build_quietly -c release --product kafka-mock-broker
BIN="$(bin_path)"

if [ "${1:-}" = "--pipeline-only" ]; then
  shift
else
  say "one suggestion in memory"
  "$BIN/bench-assignment" suggest
fi

teardown() { bash "$ROOT/ops/kafka.sh" stop || true; bash "$ROOT/ops/postgres.sh" stop || true; }
trap teardown EXIT
bash "$ROOT/ops/kafka.sh" stop >/dev/null 2>&1 || true
bash "$ROOT/ops/postgres.sh" reset >/dev/null 2>&1 || true
export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
say "taking filed proposals in end to end"
"$BIN/bench-assignment" pipeline "$@"
