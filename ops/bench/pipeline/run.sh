#!/usr/bin/env bash
# Whole-pipeline benchmark (issue 20), built in release mode: a private PostgreSQL, the local
# Kafka mock cluster (three brokers) and every pipeline service as its own process, one instance
# each, as ops/run.sh starts them. First pgbench runs intake's statements for a lone clue on the
# same database (the baseline); then bench-pipeline offers --latency-rate clues a second (500, then 250) for
# --latency-seconds (latency intake → triaged and → public), then sends --clues clues flat out with
# a staff step filing and assigning one in --filing-every (clues a second through triage and
# through the whole pipeline), and prints each process's memory and CPU beside the targets.
#
#   ops/bench/pipeline/run.sh [--clues 100000] [--connections 32] [--latency-rate 500 --latency-rate 250]
#                             [--latency-seconds 20] [--filing-every 1000] [--no-build]
#   --no-build reuses the last build (another run with other settings, e.g. KAFKA_PROPERTIES).
#
# Not a test: it prints figures. Needs pgbench (postgresql-contrib). About 10 minutes after the build.
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench-pipeline}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
# BUILD_CONFIGURATION=debug tries the script quickly with the debug build; its figures mean nothing.
export BUILD_CONFIGURATION="${BUILD_CONFIGURATION:-release}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

DRIVER_ARGS=() BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) BUILD=0; shift ;;
    --clues|--connections|--latency-rate|--latency-seconds|--filing-every) DRIVER_ARGS+=("$1" "$2"); shift 2 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

bash "$ROOT/ops/setup.sh"
command -v pgbench >/dev/null || die "pgbench is missing (Debian: postgresql-contrib or postgresql-client)"
cd "$ROOT"
SERVICES=(intake triage assignment supervision publicity)
say "building ($BUILD_CONFIGURATION): ${SERVICES[*]}, proposals-ctl, kafka-mock-broker, bench-pipeline"
if [ "$BUILD" -eq 1 ]; then
  for product in "${SERVICES[@]}" proposals-ctl kafka-mock-broker bench-pipeline; do build_quietly -c "$BUILD_CONFIGURATION" --product "$product"; done
fi
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
# pg_stat_statements: where PostgreSQL's time goes, printed with the figures.
DATABASE_URL="$(PG_SERVER_OPTIONS="-c shared_preload_libraries=pg_stat_statements" bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
TOKEN_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '\n/+=')"
"$BIN/proposals-ctl" migrate >/dev/null
bash "$ROOT/ops/postgres.sh" admin "CREATE EXTENSION IF NOT EXISTS pg_stat_statements; GRANT pg_read_all_stats TO proposals;
  GRANT EXECUTE ON FUNCTION pg_stat_statements_reset TO proposals" >/dev/null
"$BIN/proposals-ctl" topics create --replication-factor 3 >/dev/null
"$BIN/proposals-ctl" districts add haizhu 海珠区 --tracking-prefix HZ >/dev/null
psql -q "$DATABASE_URL" -c "CREATE SEQUENCE tracking_haizhu_2099" >/dev/null  # pgbench's own year
export BENCH_STUDIO_TOKEN BENCH_CLERK_TOKEN BENCH_MEMBER_TOKEN BENCH_COMMITTEE_TOKEN
BENCH_CLERK_TOKEN="$("$BIN/proposals-ctl" token --district haizhu --role clue-handler --subject bench-clerk)"
BENCH_MEMBER_TOKEN="$("$BIN/proposals-ctl" token --district haizhu --role member --subject bench-member)"
BENCH_STUDIO_TOKEN="$("$BIN/proposals-ctl" token --district haizhu --role member-studio --subject bench-studio)"
BENCH_COMMITTEE_TOKEN="$("$BIN/proposals-ctl" token --district haizhu --role proposals-committee --subject bench-committee)"

# The baseline first, while the services are not yet running: intake's statements for a clue
# that is not grouped with others, one transaction per clue, as many clients as intake's pool.
say "baseline: pgbench with intake's statements for a lone clue (16 clients, 20 s)"
rm -f "$STATE"/pgbench_log.*
(cd "$STATE" && pgbench -n -M extended -c 16 -j 2 -T 20 -f "$ROOT/ops/bench/intake/intake.sql" --log --log-prefix=pgbench_log "$DATABASE_URL") \
  >"$STATE/pgbench.out" 2>&1 || { cat "$STATE/pgbench.out" >&2; die "pgbench failed"; }
RATE="$(awk -F'= ' '/^tps/ {split($2, a, " "); printf "%.0f", a[1]}' "$STATE/pgbench.out")"
BASELINE="$(cat "$STATE"/pgbench_log.* | awk '{print $3}' | sort -n \
  | awk -v rate="$RATE" '{v[NR]=$1} END {printf "%s %.2fms %.2fms\n", rate, v[int(NR*0.50)]/1000, v[int(NR*0.99)]/1000}')"
say "  pgbench $BASELINE"
# pgbench's clues are not the run's: they would count in triage's and publicity's tables otherwise.
psql -q "$DATABASE_URL" -c "SELECT set_config('app.district','*',false)" -c "DELETE FROM outbox" -c "DELETE FROM clue_receipts" -c "DELETE FROM clues" >/dev/null
psql -q "$DATABASE_URL" -c "VACUUM ANALYZE" >/dev/null

mkdir -p "$STATE/logs"
declare -A PORT=([intake]=18181 [triage]=18182 [assignment]=18183 [supervision]=18184 [publicity]=18185)
MEASURED=()
for service in "${SERVICES[@]}"; do
  INSTANCE_ID="$service-1" HTTP_PORT="${PORT[$service]}" LOG_LEVEL=warning "$BIN/$service" >"$STATE/logs/$service.log" 2>&1 &
  PIDS+=($!)
  MEASURED+=(--process "$service=$!")
done
for service in "${SERVICES[@]}"; do
  wait_for_http "http://127.0.0.1:${PORT[$service]}/health/ready" 60 || die "$service is not ready; see $STATE/logs/$service.log"
done
MEASURED+=(--process "postgres (all backends)*=$(head -1 "$(cat "$STATE/pg.data")/postmaster.pid")")
MEASURED+=(--process "kafka mock broker=$(cat "$STATE/kafka.pid")")
sleep 5  # idle: started, connected, nothing to do

"$BIN/bench-pipeline" --intake "http://127.0.0.1:${PORT[intake]}" --triage "http://127.0.0.1:${PORT[triage]}" \
  --assignment "http://127.0.0.1:${PORT[assignment]}" --baseline "$BASELINE" "${MEASURED[@]}" "${DRIVER_ARGS[@]}"
