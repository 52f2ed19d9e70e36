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
  # A second Ctrl-C must not cut the clean-up short and leave the database running.
  trap '' INT TERM
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
# The municipal committee's tenant first: the districts' through train (直通车) leads to it.
"$BIN/proposals-ctl" districts add guangzhou 广州市 --tracking-prefix GZ --session 14 >/dev/null
"$BIN/proposals-ctl" districts add haizhu 海珠区 --tracking-prefix HZ --public-submission --parent guangzhou --session 14 >/dev/null
"$BIN/proposals-ctl" districts add tianhe 天河区 --tracking-prefix TH --public-submission --parent guangzhou --session 14 >/dev/null
"$BIN/proposals-ctl" districts add yuexiu 越秀区 --tracking-prefix YX --parent guangzhou --session 14 >/dev/null

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
  say "loading demo data: the Haizhu pilot's themed calls, resident clues and a studio's monthly CSV"
  STAFF="$("$BIN/proposals-ctl" token --district haizhu --role clue-handler --subject demo-clue-handler)"
  STUDIO="$("$BIN/proposals-ctl" token --district haizhu --role member-studio --subject shayuan-studio)"
  # The six pilot topics of the Haizhu opinions (附件2).
  for topic in "推动沙园七街“三线”下地" "持续推进“一网通办”，提升政务服务全流程网上办理率" "尽快开通琶洲港澳客运口岸" \
               "历史建筑活化利用" "以“一号工程”推动广州塔琶洲商圈建成国际消费中心城市" "推动珠江沿岸高质量发展"; do
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:8081/v1/themed-calls" -H "Authorization: Bearer $STAFF" \
      -H 'Content-Type: application/json' -d "{\"title\":\"$topic\",\"description\":\"海珠区政协“百姓提案”试点议题\"}"
  done
  while IFS='|' read -r title situation suggestion; do
    curl -fsS -o /dev/null -X POST "http://127.0.0.1:8081/v1/clues" -H 'Content-Type: application/json' \
      -d "{\"district\":\"haizhu\",\"title\":\"$title\",\"situationAnalysis\":\"$situation\",\"specificSuggestions\":\"$suggestion\",\"consentToPublish\":true,\"anonymous\":true}"
  done <<'CLUES'
电动自行车楼道充电安全隐患|老旧小区居民在楼道内为电动自行车充电，存在火灾隐患|在小区内建设集中充电桩并加强巡查
电动自行车楼道充电隐患|老旧小区居民在楼道里为电动自行车充电，有火灾隐患|建议在小区内建设集中充电桩，加强巡查
地铁站出口无障碍设施不足|地铁8号线沙园站出口没有无障碍电梯，轮椅使用者出行不便|建议地铁集团加装无障碍电梯
琶洲人才公寓配套不足|琶洲人工智能与数字经济试验区人才公寓周边缺少商业和交通配套|增加公交线路并引入便民商业
老旧小区加装电梯协调难|部分老旧小区加装电梯因低层住户意见不一而停滞|建立街道协调机制并公开补贴标准
CLUES
  printf '%s\r\n' "标题,情况分析,具体建议,来源,接收人,联系人,联系电话,同意公开" \
    "沙园七街架空线杂乱,电力通信线路私拉乱接，雨天有安全隐患,推动三线下地并统一规划管线,街道委员工作室,沙园街委员工作室,陈先生,020-84123456,是" \
    "社区长者饭堂排队久,港海社区长者饭堂午餐时段排队超过半小时,增加供餐窗口并推行线上预约,社区,沙园街委员工作室,,,是" \
    "历史建筑闲置,辖内多处历史建筑长期闲置，缺乏维护,引入社会资本活化利用，设立公共文化空间,政协委员,沙园街委员工作室,李女士,13912345678,否" \
    | curl -fsS -o /dev/null -X POST "http://127.0.0.1:8081/v1/clues/batch" -H "Authorization: Bearer $STUDIO" \
        -H 'Content-Type: text/csv; charset=utf-8' --data-binary @-
  "$BIN/proposals-ctl" integration-key add --district haizhu --district tianhe --key-id gov-platform \
    --description "government-service platform (demo)" >"$STATE/demo-integration-key"
  echo "$STAFF" >"$STATE/demo-staff-token"
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
  Residents   http://127.0.0.1:8081/submit (web form), http://127.0.0.1:8081/track (status)
  API         http://127.0.0.1:8081/openapi.json; Open311 at /open311/v2/services.json?jurisdiction_id=haizhu
  Demo credentials in $STATE: demo-staff-token (clue handler, haizhu), demo-integration-key
  Review queue: curl -H "Authorization: Bearer \$(cat $STATE/demo-staff-token)" http://127.0.0.1:8082/v1/triage/groups
                (the two e-bike clues are one group with two voices; /v1/triage/clues?urgency=urgent, /v1/triage/rules)
  Try: curl -X POST http://127.0.0.1:8081/v1/clues -H 'Content-Type: application/json' \\
         -d '{"district":"haizhu","title":"...","specificSuggestions":"...","anonymous":true}'
  Ctrl-C stops everything.
INFO

# Everything stops on Ctrl-C, or when any service dies.
wait -n "${PIDS[@]}" || true
say "a service exited; see $STATE/logs/"
exit 1
