#!/usr/bin/env bash
# Intake benchmark: accepted clues per second over HTTP (request → clue row, receipt and outbox
# event committed → 201), with p50/p99 latency, against pgbench running the clue and outbox
# INSERTs (one transaction per clue), and intake's own statements for a lone clue, on the same
# database in the same run. Not a test: it prints figures. Intake commits concurrent clues of a
# district together (GroupCommit), which is how it can pass pgbench's one-clue transactions.
#
#   ops/bench/intake/run.sh [--seconds 20] [--connections 32] [--pool 16] [--rounds 2]
#
# Needs wrk (Debian package `wrk`; installed when missing) and pgbench (postgresql-contrib).
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

SECONDS_PER_RUN=20 CONNECTIONS=32 POOL=16 ROUNDS=2
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) SECONDS_PER_RUN="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --pool) POOL="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    -h|--help) sed -n 2,8p "$0"; exit 0 ;;
    *) die "unknown argument $1 (see --help)" ;;
  esac
done

bash "$ROOT/ops/setup.sh"
command -v wrk >/dev/null || { say "installing wrk"; ${SUDO:-$([ "$(id -u)" -ne 0 ] && echo sudo)} apt-get install -y -qq wrk >/dev/null; }
command -v pgbench >/dev/null || die "pgbench is missing (Debian: postgresql-contrib or postgresql-client)"
cd "$ROOT"
say "building intake, proposals-ctl and the mock broker (release)"
build_quietly -c release --product intake
build_quietly -c release --product proposals-ctl
build_quietly -c release --product kafka-mock-broker
BIN="$(bin_path)"

INTAKE_PID=""
teardown() {
  [ -n "$INTAKE_PID" ] && kill "$INTAKE_PID" 2>/dev/null && wait "$INTAKE_PID" 2>/dev/null
  bash "$ROOT/ops/kafka.sh" stop || true
  bash "$ROOT/ops/postgres.sh" stop || true
}
trap teardown EXIT
export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL TOKEN_SECRET="bench-secret-0123456789-0123456789-abcdef"
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
# A fresh database for every run, so earlier runs' rows do not weigh on this one.
psql -q "$DATABASE_URL" -c "DROP DATABASE IF EXISTS intake_bench" -c "CREATE DATABASE intake_bench" >/dev/null
DATABASE_URL="${DATABASE_URL%/*}/intake_bench"
"$BIN/proposals-ctl" migrate >/dev/null
"$BIN/proposals-ctl" topics create --replication-factor 3 >/dev/null
"$BIN/proposals-ctl" districts add haizhu 海珠区 --tracking-prefix HZ >/dev/null
psql -q "$DATABASE_URL" -c "CREATE SEQUENCE tracking_haizhu_2099" >/dev/null  # pgbench's own year
TOKEN="$("$BIN/proposals-ctl" token --district haizhu --role member-studio --subject bench-studio)"

PORT="$(free_port 18081)"
DATABASE_POOL_SIZE="$POOL" HTTP_PORT="$PORT" LOG_LEVEL=warning "$BIN/intake" >"$STATE/intake-bench.log" 2>&1 &
INTAKE_PID=$!
wait_for_http "http://127.0.0.1:$PORT/health/ready" 60 || die "intake is not ready; see $STATE/intake-bench.log"

cat >"$STATE/clue.json" <<'JSON'
{"district":"haizhu","title":"电动自行车楼道充电安全隐患","situationAnalysis":"老旧小区居民在楼道内为电动自行车充电，存在火灾隐患，近期已发生多起险情。","specificSuggestions":"在小区内建设集中充电桩，加强物业巡查，开展消防安全宣传。","channel":"staff-entry","sourceCategory":"street-studio","receiver":{"kind":"studio","name":"沙园街委员工作室"},"anonymous":true,"consentToPublish":true}
JSON
export BENCH_BODY_FILE="$STATE/clue.json" BENCH_TOKEN="$TOKEN"

# A studio's batch of 10,000 rows: how long it takes and how much memory intake needs for it.
python3 - "$STATE/batch.csv" <<'PY'
import sys
with open(sys.argv[1], "w", encoding="utf-8-sig", newline="") as f:
    f.write("标题,情况分析,具体建议,来源,接收人,联系人,联系电话,同意公开\r\n")
    for i in range(10000):
        f.write(f"第{i}号线索：路灯不亮,夜间无照明，居民出行不便（{i}）,尽快维修并定期巡查,街道委员工作室,沙园街委员工作室,,,是\r\n")
PY
rss() { awk -v key="$1" '$1 == key":" {printf "%.1f", $2 / 1024}' "/proc/$INTAKE_PID/status"; }
BATCH_BYTES="$(stat -c %s "$STATE/batch.csv")"
RSS_BEFORE="$(rss VmRSS)" HWM_BEFORE="$(rss VmHWM)"
say "batch import of 10,000 rows ($((BATCH_BYTES / 1024)) KiB)"
BATCH_START="$(date +%s.%N)"
curl -fsS -o "$STATE/batch-answer.json" -X POST "http://127.0.0.1:$PORT/v1/clues/batch" -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: text/csv; charset=utf-8' --data-binary @"$STATE/batch.csv"
BATCH_SECONDS="$(awk -v s="$BATCH_START" -v e="$(date +%s.%N)" 'BEGIN {printf "%.1f", e - s}')"
BATCH_ACCEPTED="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["accepted"])' "$STATE/batch-answer.json")"
HWM_AFTER="$(rss VmHWM)"

say "warming up (3 s)"
wrk -t 2 -c "$CONNECTIONS" -d 3s -s "$HERE/submit.lua" "http://127.0.0.1:$PORT/v1/clues" >/dev/null

# One measurement each: "rate p50 p99".
measure_intake() {
  wrk -t 2 -c "$CONNECTIONS" -d "${SECONDS_PER_RUN}s" --latency -s "$HERE/submit.lua" "http://127.0.0.1:$PORT/v1/clues" >"$STATE/wrk.out"
  local non_2xx; non_2xx="$(awk '/Non-2xx/ {print $5}' "$STATE/wrk.out")"
  [ -z "$non_2xx" ] || die "intake answered $non_2xx requests with a non-2xx status; see $STATE/intake-bench.log"
  awk '/^Requests\/sec/ {rate = $2} $1 == "50%" {p50 = $2} $1 == "99%" {p99 = $2} END {printf "%.0f %s %s\n", rate, p50, p99}' "$STATE/wrk.out"
}
# The statements of $1, with intake's pool size as clients, extended protocol like PostgresNIO.
measure_pgbench() {
  rm -f "$STATE"/pgbench_log.*
  (cd "$STATE" && pgbench -n -M extended -c "$POOL" -j 2 -T "$SECONDS_PER_RUN" -f "$HERE/$1" --log --log-prefix=pgbench_log "$DATABASE_URL") >"$STATE/pgbench.out" 2>&1 \
    || { cat "$STATE/pgbench.out" >&2; die "pgbench failed"; }
  local rate; rate="$(awk -F'= ' '/^tps/ {split($2, a, " "); printf "%.0f", a[1]}' "$STATE/pgbench.out")"
  cat "$STATE"/pgbench_log.* | awk '{print $3}' | sort -n \
    | awk -v rate="$rate" '{v[NR]=$1} END {printf "%s %.2fms %.2fms\n", rate, v[int(NR*0.50)]/1000, v[int(NR*0.99)]/1000}'
}
better() { awk -v a="$1" -v b="$2" 'BEGIN {split(a, x, " "); split(b, y, " "); print (x[1] + 0 >= y[1] + 0 ? a : b)}'; }

# Rounds alternate so that drift of the machine (other load, caches) falls on every side alike;
# the best round of each side is compared. clue-and-outbox.sql: the clue and outbox INSERTs;
# intake.sql: every statement intake runs for such a clue when it is not grouped with others.
INTAKE="0 - -" SAME="0 - -" NARROW="0 - -"
for round in $(seq 1 "$ROUNDS"); do
  say "round $round/$ROUNDS: intake over HTTP ($CONNECTIONS connections, $SECONDS_PER_RUN s)"
  result="$(measure_intake)"; say "  intake $result"; INTAKE="$(better "$INTAKE" "$result")"
  say "round $round/$ROUNDS: pgbench with intake's statements for a lone clue ($POOL clients)"
  result="$(measure_pgbench intake.sql)"; say "  pgbench $result"; SAME="$(better "$SAME" "$result")"
  say "round $round/$ROUNDS: pgbench with the clue and outbox INSERTs only ($POOL clients)"
  result="$(measure_pgbench clue-and-outbox.sql)"; say "  pgbench $result"; NARROW="$(better "$NARROW" "$result")"
done
read -r INTAKE_RATE INTAKE_P50 INTAKE_P99 <<<"$INTAKE"
read -r PGBENCH_RATE PGBENCH_P50 PGBENCH_P99 <<<"$SAME"
read -r NARROW_RATE NARROW_P50 NARROW_P99 <<<"$NARROW"
STORED="$(psql -qtA "$DATABASE_URL" -c "SELECT set_config('app.district','haizhu',false); SELECT count(*) FROM clues WHERE tracking_number NOT LIKE 'HZ-209_-%'" | tail -1)"

cores="$(nproc)"; memory="$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
cpu="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
cat <<REPORT

Intake benchmark ($cores cores, $memory, $cpu; PostgreSQL $(psql -qtA "$DATABASE_URL" -c 'SHOW server_version'))
  best of $ROUNDS alternating rounds of $SECONDS_PER_RUN s each
  intake over HTTP   $INTAKE_RATE clues/s   p50 $INTAKE_P50   p99 $INTAKE_P99   ($CONNECTIONS connections, pool $POOL; $STORED clues stored by intake; relay publishing)
  pgbench INSERTs    $NARROW_RATE tx/s   p50 $NARROW_P50   p99 $NARROW_P99   ($POOL clients; the clue and outbox INSERTs, one transaction per clue)
  pgbench lone clue  $PGBENCH_RATE tx/s   p50 $PGBENCH_P50   p99 $PGBENCH_P99   ($POOL clients; every statement intake runs for a clue that is not grouped)
  ratio              $(awk -v a="$INTAKE_RATE" -v b="$NARROW_RATE" 'BEGIN {printf "%.0f %%", 100 * a / b}') of pgbench's clue and outbox INSERTs (target ≥ 70 %); $(awk -v a="$INTAKE_RATE" -v b="$PGBENCH_RATE" 'BEGIN {printf "%.0f %%", 100 * a / b}') of the lone-clue statements
  batch import       10,000 CSV rows ($((BATCH_BYTES / 1024)) KiB) in $BATCH_SECONDS s, $BATCH_ACCEPTED accepted; intake resident memory $RSS_BEFORE MiB before, peak $HWM_AFTER MiB after (peak before: $HWM_BEFORE MiB)
REPORT
