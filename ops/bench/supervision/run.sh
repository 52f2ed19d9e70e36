#!/usr/bin/env bash
# Supervision benchmarks, built in release mode:
#   1. the evaluation of a district-year in memory on one core: 50,000 assignments of 500 units
#      evaluated (rates, scores, ranks), exported as CSV and shortlisted for commendation, best
#      and median of 5 rounds against ≤ 10 s, and whether shuffled facts give the same result;
#   2. one scheduler pass: a private PostgreSQL is started, 100,000 open assignments preloaded
#      with their planned reminders and escalations (about 600,000 timers), then the service's
#      Timers.fireDue finds and fires the 10,000 due ones, 3 times on fresh due sets, against
#      ≤ 5 s. No Kafka: a pass only writes outbox rows.
#
#   ops/bench/supervision/run.sh [--timers-only] [--open N] [--due N] [--batch N] [--rounds N]
#   (the options are the timer pass's; the evaluation runs with its defaults, see bench-supervision evaluation --help)
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench-supervision}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
build_quietly -c release --product bench-supervision
BIN="$(bin_path)"

if [ "${1:-}" = "--timers-only" ]; then
  shift
else
  say "evaluation of a district-year in memory"
  "$BIN/bench-supervision" evaluation
fi

teardown() { bash "$ROOT/ops/postgres.sh" stop || true; }
trap teardown EXIT
bash "$ROOT/ops/postgres.sh" reset >/dev/null 2>&1 || true
export DATABASE_URL
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
say "one scheduler pass over due supervision timers"
"$BIN/bench-supervision" timers "$@"
