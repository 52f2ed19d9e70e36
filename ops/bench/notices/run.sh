#!/usr/bin/env bash
# Notices benchmark, built in release mode: a private PostgreSQL, Kafka mock cluster and SMTP
# server (ops/test/smtp-sink.py) are started; the events of one supervision timer pass (10,000
# reminders over 500 units) are published, and the real publicity service writes every unit's
# inbox notice and delivers each by e-mail and to the district's webhook. Prints the time to
# each, against keeping up with the timer pass (a pass's notices delivered before the next one).
#
#   ops/bench/notices/run.sh [--due N] [--units N] [--concurrency N] [--pass-seconds N]
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench-notices}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release

bash "$ROOT/ops/setup.sh"
cd "$ROOT"
build_quietly -c release --product bench-notices
build_quietly -c release --product kafka-mock-broker
BIN="$(bin_path)"

mail="$STATE/mail"
rm -rf "$mail"
mkdir -p "$mail"
export BENCH_SMTP_PORT
BENCH_SMTP_PORT="$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
/usr/bin/python3 "$ROOT/ops/test/smtp-sink.py" 127.0.0.1 "$BENCH_SMTP_PORT" "$mail" >"$STATE/smtp.log" 2>&1 &
smtp=$!

teardown() { kill "$smtp" 2>/dev/null || true; bash "$ROOT/ops/kafka.sh" stop || true; bash "$ROOT/ops/postgres.sh" stop || true; }
trap teardown EXIT
bash "$ROOT/ops/kafka.sh" stop >/dev/null 2>&1 || true
bash "$ROOT/ops/postgres.sh" reset >/dev/null 2>&1 || true
export DATABASE_URL KAFKA_BROKERS KAFKA_MOCK_CONTROL
DATABASE_URL="$(bash "$ROOT/ops/postgres.sh" start)"
KAFKA_BROKERS="$(bash "$ROOT/ops/kafka.sh" start 3)"
KAFKA_MOCK_CONTROL="$(cat "$STATE/kafka-control")"
for _ in $(seq 50); do grep -q ready "$STATE/smtp.log" && break; sleep 0.1; done
say "notices: one timer pass's reminders to inboxes, e-mail and the district webhook"
"$BIN/bench-notices" "$@"
say "the SMTP server kept $(find "$mail" -name '*.eml' | wc -l) messages"
