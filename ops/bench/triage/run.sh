#!/usr/bin/env bash
# Triage benchmarks (issue 4), built in release mode:
#   1. the similarity core in memory on one core (signature + candidate lookup + grouping), and
#      recall against brute-force Jaccard on a 10,000-clue sample;
#   2. automatic triage end to end with a district's clue database of 1,000,000 clues: a private
#      PostgreSQL and Kafka mock cluster are started, the clue database preloaded, new clues
#      announced on intake-events, and the triage service consumes, classifies, groups and commits.
#
#   ops/bench/triage/run.sh [--pipeline-only] [--preload N] [--measure N] [--instances N]
#   (the options are the pipeline's; the core runs with its defaults, see bench-triage core --help)
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
build_quietly -c release --product bench-triage
build_quietly -c release --product kafka-mock-broker
BIN="$(bin_path)"

if [ "${1:-}" = "--pipeline-only" ]; then
  shift
else
  say "similarity core"
  "$BIN/bench-triage" core
fi

teardown() { bash "$ROOT/ops/kafka.sh" stop || true; bash "$ROOT/ops/postgres.sh" stop || true; }
trap teardown EXIT
bash "$ROOT/ops/kafka.sh" stop >/dev/null 2>&1 || true
bash "$ROOT/ops/postgres.sh" reset >/dev/null 2>&1 || true
export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
say "automatic triage end to end"
"$BIN/bench-triage" pipeline "$@"
