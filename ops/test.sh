#!/usr/bin/env bash
# Runs every test: set-up, build, a fresh PostgreSQL cluster and Kafka mock cluster for the
# tests, `swift test`, tear-down. Exits non-zero on any failure.
#
#   ops/test.sh [swift test arguments, e.g. --filter OutboxTests]
#   Without arguments it also runs promtool on ops/prometheus/ (alert rules and their unit
#   tests) and, after the Swift tests, the fault suite on its own, ops/test/api-conformance.sh and
#   ops/test/compose-config.sh.
#
#   TEST_TODAY="2027-03-15 10:00" ops/test.sh   runs the suite as if that moment were now (any
#   `date -d` text, e.g. "2026-12-31 23:59 +0800"): PostgreSQL, the test binary and every
#   service it starts see the clock moved by the same offset (Debian's libfaketime, with
#   ops/test/faketime-waits.c for librdkafka's waits); the test binary runs directly, as
#   `swift test` itself hangs under libfaketime.
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.local/test}"
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
say "building the package and its tests"
build_quietly --build-tests
BIN="$(bin_path)"

# As if today were TEST_TODAY: one clock offset for every process, so they agree on now.
if [ -n "${TEST_TODAY:-}" ]; then
  target="$(date -d "$TEST_TODAY" +%s)" || die "TEST_TODAY: not a date date(1) reads"
  waits="$STATE/faketime-waits.so"
  mkdir -p "$STATE"
  cc -shared -fPIC -O2 -Wall -o "$waits" "$ROOT/ops/test/faketime-waits.c" -ldl
  # No shared memory between the processes (it also kept Swift Testing from starting).
  export FAKETIME="+$((target - $(date +%s)))" FAKETIME_DONT_FAKE_MONOTONIC=1 FAKETIME_DISABLE_SHM=1
  export LD_PRELOAD="$waits $(ls /usr/lib/*/faketime/libfaketimeMT.so.1 | head -1)"
  # libfaketime (0.9.10, no FAKETIME_DISABLE_SHM) gives each process shared state of its own and
  # hands its name to the process's children; when the process ends it is deleted, and a child
  # started later failed at start ("sem_open failed"). One process that lives as long as the run
  # makes it, and every process uses that one.
  sleep 86400 &
  clock_keeper=$!
  for _ in $(seq 50); do [ -e "/dev/shm/sem.faketime_sem_$clock_keeper" ] && break; sleep 0.1; done
  [ -e "/dev/shm/sem.faketime_sem_$clock_keeper" ] || die "libfaketime made no shared state for the run"
  export FAKETIME_SHARED="/faketime_sem_$clock_keeper /faketime_shm_$clock_keeper"
  say "running as if it were $(date '+%Y-%m-%d %H:%M %Z') (clock offset $FAKETIME s)"
fi

# A fresh database cluster and broker for every run.
bash "$ROOT/ops/kafka.sh" stop >/dev/null 2>&1 || true
bash "$ROOT/ops/postgres.sh" reset >/dev/null 2>&1 || true
teardown() {
  # Stopping and cleaning up need no moved clock (and its shared state goes away below).
  unset LD_PRELOAD FAKETIME FAKETIME_SHARED
  bash "$ROOT/ops/kafka.sh" stop || true
  bash "$ROOT/ops/postgres.sh" stop || true
  if [ -n "${clock_keeper:-}" ]; then
    kill "$clock_keeper" 2>/dev/null || true
    # Its state, and what processes killed mid-run (PostgreSQL makes its own) left behind.
    for state in /dev/shm/faketime_shm_* /dev/shm/sem.faketime_sem_*; do
      if [ -e "$state" ] && ! kill -0 "${state##*_}" 2>/dev/null; then rm -f "$state"; fi
    done
  fi
}
trap teardown EXIT

export TEST_DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL MOCK_BROKER_BINARY="$BIN/kafka-mock-broker" SERVICE_BINARIES="$BIN"
TEST_DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"

# Prometheus's own checker on the alert rules, the scrape configuration and the rules' unit
# tests (alerts-test.yml): before the Swift tests, as it takes a second.
if [ $# -eq 0 ]; then
  say "checking the Prometheus configuration and alert rules with promtool"
  (cd "$ROOT/ops/prometheus" && promtool check config prometheus.yml && promtool test rules alerts-test.yml)
  say "checking the scripts from a checkout the postgres user cannot enter"
  bash "$ROOT/ops/test/closed-checkout.sh"
fi

# The logs of the services the tests start as processes (Tests/Support/ServiceProcess.swift).
rm -rf "$STATE/logs/services"
run_tests() {
  if [ -n "${TEST_TODAY:-}" ]; then
    tests="$(ls -d "$BIN"/*PackageTests.xctest | head -1)"
    # Started through env(1): started by bash directly under libfaketime, the binary ran XCTest only.
    env "$tests" --testing-library swift-testing "$@"
  else
    swift test --skip-build "$@"
  fi
}
if [ $# -eq 0 ]; then
  # The fault suite runs nine services as processes and takes brokers and PostgreSQL away: it
  # runs alone after the rest, which it would starve of the two cores.
  say "running tests"
  run_tests --skip FaultSuiteTests
  say "running the fault suite alone"
  run_tests --filter FaultSuiteTests
else
  say "running tests"
  run_tests "$@"
fi

# The whole run also checks intake's HTTP API against its OpenAPI document (schemathesis);
# a filtered run (arguments given) skips it.
if [ $# -eq 0 ]; then
  say "checking intake's API against its OpenAPI document"
  bash "$ROOT/ops/test/api-conformance.sh"
  say "checking docker-compose.yml with Docker Compose itself"
  bash "$ROOT/ops/test/compose-config.sh"
  say "checking that every Swift file is formatted (swift format, .swift-format)"
  bash "$ROOT/ops/test/format-check.sh"
fi
