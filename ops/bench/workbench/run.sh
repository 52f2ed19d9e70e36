#!/usr/bin/env bash
# Workbench benchmark, built in release mode: a private PostgreSQL and the local Kafka mock
# cluster are started; a district of --clues clues (as intake and triage leave them: groups of
# five, a fifth awaiting review) and --staff clue-handler accounts are seeded; triage and the
# workbench run as processes, as ops/run.sh starts them; then every clue handler signs in and
# browses the review queue, the issue groups and clue pages at once for --seconds, and the
# latency per page is printed beside the issue's baseline (p99 ≤ 100 ms on this machine).
# Each person reads a page for --think-ms (1,000 ms: brisker than anyone reads) before the next;
# --think-ms 0 asks flat out, for the most pages a second the machine serves.
#
#   ops/bench/workbench/run.sh [--clues N] [--staff N] [--seconds N] [--think-ms N]
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench-workbench}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release

CLUES=100000 STAFF=50 SECONDS_=30 THINK_MS=1000
while [ $# -gt 0 ]; do
  case "$1" in
    --clues) CLUES="$2"; shift 2 ;;
    --staff) STAFF="$2"; shift 2 ;;
    --seconds) SECONDS_="$2"; shift 2 ;;
    --think-ms) THINK_MS="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
say "building (release): bench-workbench, triage, workbench, kafka-mock-broker"
for product in bench-workbench triage workbench kafka-mock-broker; do build_quietly -c release --product "$product"; done
BIN="$(bin_path)"

PIDS=()
teardown() {
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash "$ROOT/ops/kafka.sh" stop || true
  bash "$ROOT/ops/postgres.sh" stop || true
}
trap teardown EXIT
bash "$ROOT/ops/kafka.sh" stop >/dev/null 2>&1 || true
bash "$ROOT/ops/postgres.sh" reset >/dev/null 2>&1 || true
export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL TOKEN_SECRET
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
TOKEN_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"

say "seeding $CLUES clues and $STAFF accounts"
"$BIN/bench-workbench" seed --clues "$CLUES" --staff "$STAFF"
"$BIN/proposals-ctl" topics create --replication-factor 3 >/dev/null 2>&1 || true

mkdir -p "$STATE/logs"
HTTP_PORT=18082 LOG_LEVEL=warning "$BIN/triage" >"$STATE/logs/triage.log" 2>&1 &
PIDS+=($!)
HTTP_PORT=18080 LOG_LEVEL=warning WORKBENCH_TRIAGE_URL=http://127.0.0.1:18082 "$BIN/workbench" >"$STATE/logs/workbench.log" 2>&1 &
PIDS+=($!)
wait_for_http http://127.0.0.1:18082/health/ready 60 || die "triage is not ready; see $STATE/logs/triage.log"
wait_for_http http://127.0.0.1:18080/health/ready 60 || die "the workbench is not ready; see $STATE/logs/workbench.log"

say "$STAFF clue handlers browsing for $SECONDS_ s"
"$BIN/bench-workbench" browse --workbench http://127.0.0.1:18080 --staff "$STAFF" --seconds "$SECONDS_" --clues "$CLUES" --think-ms "$THINK_MS"
