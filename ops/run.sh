#!/usr/bin/env bash
# Runs the whole system locally: set-up, build, PostgreSQL, the Kafka mock cluster, migrations,
# topics, demo districts and clues, and all five services as separate processes.
#
#   ops/run.sh [--instances N] [--release] [--no-demo]
#
# Ctrl-C stops the services (gracefully), the broker and the database.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTANCES="${INSTANCES:-1}"
DEMO=1
while [ $# -gt 0 ]; do
  case "$1" in
    --instances) INSTANCES="$2"; shift 2 ;;
    --release) export BUILD_CONFIGURATION=release; shift ;;
    --no-demo) DEMO=0; shift ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$INSTANCES" =~ ^[1-6]$ ]] || die "--instances must be 1 to 6 (topics have 6 partitions)"

bash "$ROOT/ops/setup.sh"
say "building (${BUILD_CONFIGURATION:-debug}); the first build takes several minutes"
(cd "$ROOT" && build_quietly -c "${BUILD_CONFIGURATION:-debug}")
BIN="$(cd "$ROOT" && bin_path)"

SERVICES=(intake triage assignment supervision publicity)
declare -A BASE_PORT=([intake]=8081 [triage]=8082 [assignment]=8083 [supervision]=8084 [publicity]=8085)
PIDS=()

stop_all() {
  say "stopping services"
  for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  bash "$ROOT/ops/kafka.sh" stop
  bash "$ROOT/ops/postgres.sh" stop
  say "stopped"
}
trap stop_all EXIT
trap 'exit 130' INT TERM

export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL TOKEN_SECRET
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
[ -s "$STATE/token-secret" ] || head -c 48 /dev/urandom | base64 | tr -d '\n/+=' >"$STATE/token-secret"
TOKEN_SECRET="$(cat "$STATE/token-secret")"

"$BIN/proposals-ctl" migrate
"$BIN/proposals-ctl" topics create --replication-factor 3 >/dev/null
"$BIN/proposals-ctl" districts add haizhu 海珠区 --tracking-prefix HZ --public-submission >/dev/null
"$BIN/proposals-ctl" districts add tianhe 天河区 --tracking-prefix TH --public-submission >/dev/null
"$BIN/proposals-ctl" districts add yuexiu 越秀区 --tracking-prefix YX >/dev/null

mkdir -p "$STATE/logs"
for service in "${SERVICES[@]}"; do
  for instance in $(seq 1 "$INSTANCES"); do
    port=$((BASE_PORT[$service] + 100 * (instance - 1)))
    INSTANCE_ID="$service-$instance" HTTP_PORT="$port" "$BIN/$service" >"$STATE/logs/$service-$instance.log" 2>&1 &
    PIDS+=($!)
  done
done

for service in "${SERVICES[@]}"; do
  for instance in $(seq 1 "$INSTANCES"); do
    port=$((BASE_PORT[$service] + 100 * (instance - 1)))
    wait_for_http "http://127.0.0.1:$port/health/ready" 60 || die "$service-$instance is not ready; see $STATE/logs/$service-$instance.log"
  done
done

if [ "$DEMO" = 1 ] && [ ! -f "$STATE/demo-loaded" ]; then
  say "submitting demo clues from the Haizhu pilot"
  while IFS='|' read -r title situation suggestion; do
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:8081/v1/clues" -H 'Content-Type: application/json' \
      -d "{\"district\":\"haizhu\",\"title\":\"$title\",\"situationAnalysis\":\"$situation\",\"specificSuggestions\":\"$suggestion\",\"channel\":\"wechat\",\"sourceCategory\":\"online-platform\",\"anonymous\":true}"
  done <<'CLUES'
电动自行车楼道充电安全隐患|老旧小区居民在楼道内为电动自行车充电，存在火灾隐患|在小区内建设集中充电桩并加强巡查
琶洲人才公寓配套不足|琶洲人工智能与数字经济试验区人才公寓周边缺少商业和交通配套|增加公交线路并引入便民商业
老旧小区加装电梯协调难|部分老旧小区加装电梯因低层住户意见不一而停滞|建立街道协调机制并公开补贴标准
CLUES
  touch "$STATE/demo-loaded"
fi

cat >&2 <<INFO

  The citizens' proposals pipeline is running ($INSTANCES instance(s) per service).
    intake       http://127.0.0.1:8081   POST /v1/clues
    triage       http://127.0.0.1:8082
    assignment   http://127.0.0.1:8083
    supervision  http://127.0.0.1:8084
    publicity    http://127.0.0.1:8085
  Every service: /health/live, /health/ready, /metrics. Further instances listen 100 ports higher.
  PostgreSQL   $DATABASE_URL
  Kafka        $KAFKA_BROKERS (mock cluster; control $KAFKA_MOCK_CONTROL)
  Logs         $STATE/logs/
  Try: curl -X POST http://127.0.0.1:8081/v1/clues -H 'Content-Type: application/json' \\
         -d '{"district":"haizhu","title":"...","situationAnalysis":"...","specificSuggestions":"...","channel":"web","sourceCategory":"online-platform","anonymous":true}'
  Ctrl-C stops everything.
INFO

# Everything stops on Ctrl-C, or when any service dies.
wait -n "${PIDS[@]}" || true
say "a service exited; see $STATE/logs/"
exit 1
