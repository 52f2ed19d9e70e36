#!/usr/bin/env bash
# Runs the whole system locally: set-up, build, PostgreSQL, the Kafka mock cluster, migrations,
# topics, demo districts and clues, all five services as separate processes, and the workbench
# (the staff web application, http://127.0.0.1:8080/) with a demo account for each role.
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

SERVICES=(intake triage assignment supervision publicity workbench)
declare -A BASE_PORT=([workbench]=8080 [intake]=8081 [triage]=8082 [assignment]=8083 [supervision]=8084 [publicity]=8085)
# The workbench calls the services' APIs (their first instances).
export WORKBENCH_INTAKE_URL=http://127.0.0.1:8081 WORKBENCH_TRIAGE_URL=http://127.0.0.1:8082 \
  WORKBENCH_ASSIGNMENT_URL=http://127.0.0.1:8083 WORKBENCH_SUPERVISION_URL=http://127.0.0.1:8084 \
  WORKBENCH_PUBLICITY_URL=http://127.0.0.1:8085
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

# Demo accounts' password (demo data only; real accounts get a one-time password).
DEMO_PASSWORD="${DEMO_PASSWORD:-Pilot-Demo-2026}"
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

# The operator dashboard (lag, dead letters, outbox, overdue assignments), like ops teams run it.
"$BIN/proposals-ctl" dashboard --port 9100 >"$STATE/logs/dashboard.log" 2>&1 &
PIDS+=($!)

# The first value at a path of a JSON document on stdin (e.g. `proposals.0.proposalId`).
json_value() {
  python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."):
    value = value[int(key)] if key.isdigit() else value[key]
print(value)' "$1"
}

# Assignment's demo: clues taken all the way from a reference topic through claiming,
# cultivation and filing into the assignment queue, one of them assigned and answered.
demo_assignment() {
  local committee member clerk api=http://127.0.0.1:8083/v1/assignment triage=http://127.0.0.1:8082
  committee="$("$BIN/proposals-ctl" token --district haizhu --role proposals-committee --subject demo-committee)"
  member="$("$BIN/proposals-ctl" token --district haizhu --role member --subject member.chen)"
  clerk="$("$BIN/proposals-ctl" token --district haizhu --role clue-handler --subject demo-clue-handler)"
  send() { curl -fsS -X "$1" "$2" -H "Authorization: Bearer $3" -H 'Content-Type: application/json' -d "$4"; }
  # Units and the 2026 calendar came with `proposals-ctl seed-demo`.

  # A clue awaiting review whose title contains $1 (triage registers the demo's clues meanwhile).
  waiting_clue() {
    local clue=""
    for _ in $(seq 1 100); do
      clue="$(curl -fsS "$triage/v1/triage/clues?status=awaiting-review" -H "Authorization: Bearer $clerk" |
        python3 -c 'import json, sys
print(next((c["clueId"] for c in json.load(sys.stdin)["clues"] if sys.argv[1] in c["title"]), ""))' "$1")"
      [ -n "$clue" ] && break
      sleep 0.2
    done
    [ -n "$clue" ] || die "triage did not register the demo clue '$1'; see $STATE/logs/triage-1.log"
    echo "$clue"
  }
  # Clue $1 becomes a reference topic, claimed and cultivated by a member into a proposal
  # (title $2, summary $3, reasons $4, suggestions $5) filed on the fast track; prints its id.
  file_from_clue() {
    local topic proposal
    topic="$(send POST "$triage/v1/triage/clues/$1/decision" "$clerk" '{"route":"reference-topic","note":"一般性建议，发布为参考选题"}' | json_value topicId)"
    send POST "$triage/v1/reference-topics/$topic/claims" "$member" '{"name":"陈委员"}' >/dev/null
    proposal="$(send POST "$triage/v1/proposals" "$member" "{\"topicId\":\"$topic\",\"title\":\"$2\",\"caseSummary\":\"$3\",\"reasons\":\"$4\",\"suggestions\":\"$5\",\"proposers\":[{\"name\":\"陈委员\",\"kind\":\"member\"}]}" | json_value id)"
    send POST "$triage/v1/proposals/$proposal/submit" "$member" '{}' >/dev/null
    send POST "$triage/v1/proposals/$proposal/review" "$committee" '{"decision":"file"}' >/dev/null
    echo "$proposal"
  }

  # The canteen proposal waits in the assignment queue with its suggestion.
  local proposal lift lead=""
  proposal="$(file_from_clue "$(waiting_clue 长者饭堂)" 关于优化社区长者饭堂供餐服务的提案 社区长者饭堂午餐排队时间长 \
    港海社区长者饭堂午餐时段排队超过半小时，老人站立等候辛苦。 增加供餐窗口，推行线上预约，设置休息座椅。)"
  echo "$committee" >"$STATE/demo-committee-token"
  echo "$proposal" >"$STATE/demo-proposal"

  # The lift proposal is assigned to the unit suggested first, so supervision tracks it with its
  # reminders and escalation.
  lift="$(file_from_clue "$(waiting_clue 加装电梯)" 关于破解老旧小区加装电梯协调难的提案 老旧小区加装电梯协调难 \
    部分老旧小区加装电梯因低层住户意见不一而停滞。 建立街道协调机制，公开补贴标准。)"
  for _ in $(seq 1 100); do
    lead="$(curl -fsS "$api/proposals/$lift" -H "Authorization: Bearer $committee" 2>/dev/null | json_value suggestion.lead.0.unitId 2>/dev/null || true)"
    [ -n "$lead" ] && break
    sleep 0.2
  done
  [ -n "$lead" ] || die "assignment did not take in the demo proposal; see $STATE/logs/assignment-1.log"
  send POST "$api/proposals/$lift/assignment" "$committee" "{\"lead\":\"$lead\",\"notes\":\"请按期办理并做好三见面\"}" >/dev/null

  # The lead unit answers it (category A), so the portal's feedback list shows an answer.
  local unit assignment=""
  unit="$("$BIN/proposals-ctl" token --district haizhu --role handling-unit --subject demo-unit --unit "$lead")"
  for _ in $(seq 1 100); do
    assignment="$(curl -fsS http://127.0.0.1:8084/v1/supervision/my/assignments -H "Authorization: Bearer $unit" 2>/dev/null |
      json_value assignments.0.assignmentId 2>/dev/null || true)"
    [ -n "$assignment" ] && break
    sleep 0.2
  done
  [ -n "$assignment" ] || die "supervision did not track the demo assignment; see $STATE/logs/supervision-1.log"
  send POST "http://127.0.0.1:8084/v1/supervision/my/assignments/$assignment/reply" "$unit" \
    '{"text":"已会同街道建立加装电梯协调机制，在官网公开补贴标准，今年已协调 12 个小区开工。","category":"A"}' >/dev/null
}

if [ "$DEMO" = 1 ] && [ ! -f "$STATE/demo-loaded" ]; then
  say "loading demo data: the Haizhu pilot's themed calls, units, residents' clues and a studio's monthly CSV"
  STAFF="$("$BIN/proposals-ctl" token --district haizhu --role clue-handler --subject demo-clue-handler)"
  STUDIO="$("$BIN/proposals-ctl" token --district haizhu --role member-studio --subject shayuan-studio)"
  # Haizhu's streets, handling units, 2026 calendar, the six pilot topics (附件2) and a few
  # hundred residents' clues, through the services' APIs.
  "$BIN/proposals-ctl" seed-demo --clues 300
  printf '%s\r\n' "标题,情况分析,具体建议,来源,接收人,联系人,联系电话,同意公开" \
    "沙园七街架空线杂乱,电力通信线路私拉乱接，雨天有安全隐患,推动三线下地并统一规划管线,街道委员工作室,沙园街委员工作室,陈先生,020-84123456,是" \
    "社区长者饭堂排队久,港海社区长者饭堂午餐时段排队超过半小时,增加供餐窗口并推行线上预约,社区,沙园街委员工作室,,,是" \
    "历史建筑闲置,辖内多处历史建筑长期闲置，缺乏维护,引入社会资本活化利用，设立公共文化空间,政协委员,沙园街委员工作室,李女士,13912345678,否" \
    | curl -fsS -o /dev/null -X POST "http://127.0.0.1:8081/v1/clues/batch" -H "Authorization: Bearer $STUDIO" \
        -H 'Content-Type: text/csv; charset=utf-8' --data-binary @-
  demo_assignment
  # The district's reply template, for units to start their replies from (答复模板).
  send POST http://127.0.0.1:8084/v1/supervision/reply-templates \
    "$("$BIN/proposals-ctl" token --district haizhu --role proposals-committee --subject demo-committee)" \
    '{"name":"标准答复函","body":"关于《{标题}》（案号 {案号}）的答复\n\n尊敬的提案人：\n\n您提出的《{标题}》提案收悉。{承办单位}高度重视，经认真研究，现答复如下：\n\n一、……\n\n二、……\n\n感谢您对我区工作的关心和支持。\n\n{承办单位}\n{今天}"}' >/dev/null
  "$BIN/proposals-ctl" integration-key add --district haizhu --district tianhe --key-id gov-platform \
    --description "government-service platform (demo)" >"$STATE/demo-integration-key"
  echo "$STAFF" >"$STATE/demo-staff-token"
  touch "$STATE/demo-loaded"
fi

if [ "$DEMO" = 1 ] && [ ! -f "$STATE/demo-accounts" ]; then
  # A workbench account for each role (demo only: a known password, no change required).
  COMMITTEE="$("$BIN/proposals-ctl" token --district haizhu --role proposals-committee --subject demo-committee 2>/dev/null)"
  # The unit's account is the housing bureau's, the lead unit of the demo's lift proposal.
  housing="$(curl -fsS http://127.0.0.1:8083/v1/assignment/units -H "Authorization: Bearer $COMMITTEE" \
    | python3 -c 'import json,sys; print(next(u["id"] for u in json.load(sys.stdin)["units"] if "住房" in u["name"]))' 2>/dev/null || true)"
  # Members' and studios' accounts are linked to their register entries (seed-demo imported the register).
  while read -r district login role register name; do
    extra=()
    if [ "$role" = handling-unit ]; then
      [ -n "$housing" ] || continue
      extra=(--unit "$housing")
    fi
    [ "$register" = - ] || extra+=(--register "$register")
    "$BIN/proposals-ctl" accounts add --district "$district" --role "$role" --login "$login" --name "$name" "${extra[@]}" \
      --password "$DEMO_PASSWORD" --ready --operator run.sh >/dev/null
  done <<ACCOUNTS
haizhu admin administrator - 区政协管理员
haizhu clerk clue-handler - 线索处理组陈干事
haizhu committee proposals-committee - 提案委李主任
haizhu member.chen member m-chen 陈委员
haizhu studio.shayuan member-studio studio-shayuan 沙园街委员工作室
haizhu unit.housing handling-unit - 区住房和城乡建设局
haizhu leader supervising-leader - 督办领导王副主席
guangzhou city proposals-committee - 市政协提案委
ACCOUNTS
  touch "$STATE/demo-accounts"
fi

cat >&2 <<INFO

  The citizens' proposals pipeline is running ($INSTANCES instance(s) per service).
    workbench    http://127.0.0.1:8080   staff sign in here: admin, clerk, committee, member.chen,
                                         studio.shayuan, unit.housing, leader, city (the municipal
                                         committee) — password $DEMO_PASSWORD
    intake       http://127.0.0.1:8081   POST /v1/clues
    triage       http://127.0.0.1:8082
    assignment   http://127.0.0.1:8083
    supervision  http://127.0.0.1:8084
    publicity    http://127.0.0.1:8085
  Every service: /health/live, /health/ready, /metrics. Further instances listen 100 ports higher.
  Operations   http://127.0.0.1:9100/ (dashboard); $BIN/proposals-ctl lag | dlq list | outbox status
  PostgreSQL   $DATABASE_URL
  Kafka        $KAFKA_BROKERS (mock cluster; control $KAFKA_MOCK_CONTROL)
  Logs         $STATE/logs/
  Residents   http://127.0.0.1:8081/submit (web form), http://127.0.0.1:8081/track (status)
  API         http://127.0.0.1:8081/openapi.json; Open311 at /open311/v2/services.json?jurisdiction_id=haizhu
  Demo credentials in $STATE: demo-staff-token (clue handler, haizhu), demo-integration-key
  Review queue: curl -H "Authorization: Bearer \$(cat $STATE/demo-staff-token)" http://127.0.0.1:8082/v1/triage/groups
                (the e-bike clues from many streets are one group of many voices; /v1/triage/clues?urgency=urgent, /v1/triage/rules)
  Assignment queue: curl -H "Authorization: Bearer \$(cat $STATE/demo-committee-token)" http://127.0.0.1:8083/v1/assignment/queue
                (the demo's filed canteen proposal, with the units suggested and why; assign it with
                 POST /v1/assignment/proposals/\$(cat $STATE/demo-proposal)/assignment {"lead": "<unit id>"})
  Supervision: curl -H "Authorization: Bearer \$(cat $STATE/demo-committee-token)" http://127.0.0.1:8084/v1/supervision/assignments
                (the assigned lift proposal with its deadline; /v1/supervision/assignments/<id> shows its timers)
  Portal: http://127.0.0.1:8085/ (feedback list /feedback, statistics /statistics, open data /open-data;
                the filed canteen and lift proposals, the lift one answered)
  Try: curl -X POST http://127.0.0.1:8081/v1/clues -H 'Content-Type: application/json' \\
         -d '{"district":"haizhu","title":"...","specificSuggestions":"...","anonymous":true}'
  Ctrl-C stops everything.
INFO

# Everything stops on Ctrl-C, or when any service dies.
wait -n "${PIDS[@]}" || true
say "a service exited; see $STATE/logs/"
exit 1
