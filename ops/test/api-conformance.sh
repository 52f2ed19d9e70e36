#!/usr/bin/env bash
# Intake's HTTP API against its OpenAPI document: validates
# Services/Intake/IntakeService/Resources/openapi.json, starts intake on a fresh database of the
# test PostgreSQL, and runs schemathesis against it. Passes only with zero 5xx and every response
# (status, content type, body, headers) matching the document.
#
# Needs what ops/test.sh exports while its PostgreSQL and broker run:
#   TEST_DATABASE_URL   URL of the main database; its role may CREATE DATABASE
#   KAFKA_BROKERS, KAFKA_MOCK_CONTROL
#   SERVICE_BINARIES    folder with the built intake and proposals-ctl
# Optional: CONFORMANCE_MAX_EXAMPLES (per operation and phase, default 100), CONFORMANCE_SEED,
#           CONFORMANCE_PHASES (default examples,coverage,fuzzing,stateful), CONFORMANCE_MIN_CASES
#           (fewer cases than this fail the run, default 1000), CONFORMANCE_WORKERS (default 1: with
#           more, Hypothesis under CPython 3.11.7 can hit "AST constructor recursion depth mismatch").
# The Python tools live in .local/venv ($STATE/../venv), created on first use and kept.
# Output: schemathesis' failures and summary, a [summary] line with the number of cases, and a
# closing "api-conformance: N passed, M failed" line counting operations.
set -euo pipefail
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.local/test}"
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

SCHEMATHESIS_VERSION=4.32.5
SPEC_VALIDATOR_VERSION=0.9.0

: "${TEST_DATABASE_URL:?TEST_DATABASE_URL is required (ops/test.sh exports it)}"
: "${KAFKA_BROKERS:?KAFKA_BROKERS is required}"
: "${KAFKA_MOCK_CONTROL:?KAFKA_MOCK_CONTROL is required}"
: "${SERVICE_BINARIES:?SERVICE_BINARIES is required (the folder with intake and proposals-ctl)}"
MAX_EXAMPLES="${CONFORMANCE_MAX_EXAMPLES:-100}"
WORKERS="${CONFORMANCE_WORKERS:-1}"
PHASES="${CONFORMANCE_PHASES:-examples,coverage,fuzzing,stateful}"
SEED="${CONFORMANCE_SEED:-$((RANDOM * 32768 + RANDOM))}"

SPEC="$ROOT/Services/Intake/IntakeService/Resources/openapi.json"
CTL="$SERVICE_BINARIES/proposals-ctl"
INTAKE="$SERVICE_BINARIES/intake"
for binary in "$CTL" "$INTAKE"; do [ -x "$binary" ] || die "$binary is missing: build first"; done
command -v psql >/dev/null || die "psql is missing (ops/setup.sh installs PostgreSQL)"

WORK="$STATE/conformance"
rm -rf "$WORK"
mkdir -p "$WORK"
started=$SECONDS

# --- Python tools -----------------------------------------------------------------------------
VENV="$(cd "$STATE/.." && pwd)/venv"
tools_ok() {
  "$VENV/bin/python" - "$SCHEMATHESIS_VERSION" "$SPEC_VALIDATOR_VERSION" 2>/dev/null <<'PY'
import sys
from importlib.metadata import version
sys.exit(0 if (version("schemathesis"), version("openapi-spec-validator")) == tuple(sys.argv[1:3]) else 1)
PY
}
if ! tools_ok; then
  say "installing schemathesis $SCHEMATHESIS_VERSION and openapi-spec-validator $SPEC_VALIDATOR_VERSION into $VENV"
  [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "python3 -m venv failed (python3-venv missing?)"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$SPEC_VALIDATOR_VERSION" \
    || die "pip install failed"
  tools_ok || die "the tools in $VENV are not the pinned versions"
fi

# --- the document -----------------------------------------------------------------------------
say "validating $(realpath --relative-to="$ROOT" "$SPEC")"
"$VENV/bin/openapi-spec-validator" "$SPEC" >"$WORK/spec-validator.log" 2>&1 \
  || { cat "$WORK/spec-validator.log"; die "openapi.json is not a valid OpenAPI document"; }

# --- a database, topics and credentials of its own ----------------------------------------------
DB_NAME="intake_conformance_$$"
DB_URL="${TEST_DATABASE_URL%/*}/$DB_NAME"
TOPIC_PREFIX="conformance-$$-"
TOKEN_SECRET="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
INTAKE_PID=""

cleanup() {
  local status=$?
  if [ -n "$INTAKE_PID" ] && kill -0 "$INTAKE_PID" 2>/dev/null; then
    kill -TERM "$INTAKE_PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$INTAKE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$INTAKE_PID" 2>/dev/null || true
    wait "$INTAKE_PID" 2>/dev/null || true
  fi
  psql "$TEST_DATABASE_URL" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB_NAME WITH (FORCE)" >/dev/null 2>&1 \
    || say "warning: could not drop database $DB_NAME"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

psql "$TEST_DATABASE_URL" -qAt -v ON_ERROR_STOP=1 -c "CREATE DATABASE $DB_NAME" >/dev/null
export DATABASE_URL="$DB_URL" KAFKA_BROKERS KAFKA_MOCK_CONTROL KAFKA_TOPIC_PREFIX="$TOPIC_PREFIX" TOKEN_SECRET
brokers=$(tr ',' '\n' <<<"$KAFKA_BROKERS" | grep -c .)
{
  "$CTL" migrate
  # Public submissions are rate-limited per address and hour: high enough not to be reached here.
  "$CTL" districts add haizhu 海珠区 --tracking-prefix HZ --public-submission --public-submissions-per-hour 1000000
  "$CTL" districts add liwan 荔湾区 --tracking-prefix LW
  "$CTL" topics create --replication-factor "$((brokers < 3 ? brokers : 3))"
  "$CTL" integration-key add --district haizhu --key-id conformance-open311 --channel open311 \
    --requests-per-minute 1000000 --description "api conformance"
} >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; die "setting up the database and topics failed"; }
OPEN311_API_KEY="$(sed -n 's/^Open311 api_key: //p' "$WORK/setup.log")"
[ -n "$OPEN311_API_KEY" ] || die "no api_key in the output of proposals-ctl integration-key add"
STAFF_TOKEN="$("$CTL" token --subject api-conformance --role clue-handler --district haizhu --hours 2)"

# --- intake -----------------------------------------------------------------------------------
PORT="$(free_port 18600)"
INTAKE_HTTP_PORT="$PORT" HTTP_HOST=127.0.0.1 INSTANCE_ID="intake-conformance-$$" LOG_LEVEL=info \
  "$INTAKE" >"$WORK/intake.log" 2>&1 &
INTAKE_PID=$!
say "intake on 127.0.0.1:$PORT (pid $INTAKE_PID, log $WORK/intake.log)"
if ! wait_for_http "http://127.0.0.1:$PORT/health/ready" 90; then
  tail -30 "$WORK/intake.log"
  die "intake did not become ready"
fi

# --- schemathesis -----------------------------------------------------------------------------
# Staff token on every request (-H). The Open311 GET operations get a valid api_key through the
# open311ApiKey scheme, POST requests.json most of the time in its form; district parameters are
# a configured district most of the time, so cases get past "no such district" to the database.
# Examples that failed are kept in $STATE/conformance-examples and tried first next time.
cat >"$WORK/schemathesis.toml" <<TOML
[dictionaries]
districts = { values = ["haizhu", "liwan"] }
open311-keys = { values = ["$OPEN311_API_KEY"] }

[auth.openapi.open311ApiKey]
api_key = "$OPEN311_API_KEY"

[[operations]]
include-operation-id = "submitClue"
parameters = { "body.district" = { dictionary = "districts", probability = 0.8 } }

[[operations]]
include-operation-id = "open311CreateRequest"
parameters = { "body.api_key" = { dictionary = "open311-keys", probability = 0.8 }, "body.jurisdiction_id" = { dictionary = "districts", probability = 0.8 } }

[[operations]]
include-operation-id = ["open311Services", "open311ServiceDefinition", "open311Requests", "open311Request"]
parameters = { "query.jurisdiction_id" = { dictionary = "districts", probability = 0.7 } }

[[operations]]
include-operation-id = ["listThemedCalls", "importClues"]
parameters = { "query.district" = { dictionary = "districts", probability = 0.7 } }

[[operations]]
include-operation-id = ["webForm", "webSubmit"]
parameters = { "path.district" = { dictionary = "districts", probability = 0.7 } }
TOML
say "schemathesis: up to $MAX_EXAMPLES cases per operation and phase, phases $PHASES, seed $SEED"
checks=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance
set +e
(
  cd "$WORK"
  "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis.toml" run "$SPEC" \
    --url "http://127.0.0.1:$PORT" \
    --header "Authorization: Bearer $STAFF_TOKEN" \
    --checks "$checks" \
    --phases "$PHASES" \
    --max-examples "$MAX_EXAMPLES" \
    --continue-on-failure \
    --workers "$WORKERS" \
    --seed "$SEED" \
    --request-timeout 30 \
    --generation-database "$STATE/conformance-examples" \
    --report ndjson --report-ndjson-path "$WORK/events.ndjson" \
    --output-sanitize false \
    --no-color
) >"$WORK/schemathesis.log" 2>&1
status=$?
set -e
# The failures and the closing summary; the whole output is in the log.
sed -n '/^=* FAILURES =*$/,$p' "$WORK/schemathesis.log" | grep -v '^$' || tail -40 "$WORK/schemathesis.log"

alive=yes
kill -0 "$INTAKE_PID" 2>/dev/null || alive=no
# Counts from the event stream: every generated case is one request (stateful steps included).
set +e
closing="$("$VENV/bin/python" - "$WORK/events.ndjson" "$status" "$((SECONDS - started))" "$alive" "${CONFORMANCE_MIN_CASES:-1000}" "$SEED" <<'PY'
import collections, json, sys
events, status, seconds, alive, minimum, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4] == "yes", int(sys.argv[5]), sys.argv[6]
cases, statuses = collections.Counter(), collections.Counter()
operations, failing, failed_checks, errors = set(), set(), set(), set()
try:
    lines = open(events, encoding="utf-8").readlines()
except OSError:
    lines = []
for line in lines:
    event = json.loads(line)
    if "NonFatalError" in event:
        errors.add(event["NonFatalError"].get("label") or "schemathesis")
    finished = event.get("ScenarioFinished")
    if finished is None:
        continue
    recorder, phase = finished["recorder"], finished["phase"]
    cases[phase] += len(recorder.get("cases", {}))
    for interaction in recorder.get("interactions", {}).values():
        response = interaction.get("response") or {}
        if "status_code" in response:
            statuses[response["status_code"] // 100] += 1
    if phase != "stateful" and finished["status"] != "skip":
        operations.add(recorder["label"])
    for checks in recorder.get("checks", {}).values():
        for check in checks:
            if check["status"] == "failure":
                operation = check.get("failure_info", {}).get("failure", {}).get("operation") or recorder["label"]
                failing.add(operation)
                failed_checks.add((operation, check["name"]))
total = sum(cases.values())
phases = ", ".join(f"{name} {count}" for name, count in cases.items())
classes = ", ".join(f"{code}xx {count}" for code, count in sorted(statuses.items()))
print(f"[summary] schemathesis exit {status}, seed {seed}: {total} cases ({phases}); responses {classes}; "
      f"{len(failed_checks)} failed checks on {len(failing)} operations, {len(errors)} errors; "
      f"intake {'alive' if alive else 'DIED'}; {seconds}s in all", file=sys.stderr)
for operation, check in sorted(failed_checks):
    print(f"[summary]   failed: {operation}: {check}", file=sys.stderr)
for label in sorted(errors):
    print(f"[summary]   error: {label}", file=sys.stderr)
if total < minimum:
    print(f"[summary]   only {total} cases ran; at least {minimum} are required", file=sys.stderr)
bad = failing | errors
ok = status == 0 and alive and total >= minimum and not bad
# Operations are what passes or fails; a run that failed otherwise (too few cases, intake died,
# schemathesis itself) counts as one failure more.
print(f"api-conformance: {len(operations - bad)} passed, {len(bad) + (0 if ok or bad else 1)} failed")
sys.exit(0 if ok else 1)
PY
)"
verdict=$?
set -e
[ "$alive" = yes ] || { tail -30 "$WORK/intake.log"; say "intake died during the run"; }
[ "$verdict" -eq 0 ] || say "API conformance failed (schemathesis log: $WORK/schemathesis.log, intake log: $WORK/intake.log)"
echo "$closing"
exit "$verdict"
