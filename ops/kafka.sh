#!/usr/bin/env bash
# The local Kafka cluster: librdkafka's mock brokers hosted by ops/mock-broker.
#   ops/kafka.sh start [BROKERS]   start (default 3 brokers); prints the bootstrap list and
#                                  writes it to $STATE/kafka-brokers
#   ops/kafka.sh stop
#   ops/kafka.sh control CMD...    e.g. 'down 2', 'up 2' (see ops/mock-broker/main.swift)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start() {
  if [ -f "$STATE/kafka.pid" ] && kill -0 "$(cat "$STATE/kafka.pid")" 2>/dev/null; then
    say "Kafka mock cluster already running"
  else
    local binary
    binary="$(bin_path)/kafka-mock-broker"
    [ -x "$binary" ] || die "$binary is missing: build first (swift build --product kafka-mock-broker)"
    rm -f "$STATE/kafka-brokers" "$STATE/kafka-control"
    nohup "$binary" --brokers "${1:-3}" --bootstrap-file "$STATE/kafka-brokers" \
      --control-file "$STATE/kafka-control" >"$STATE/kafka.log" 2>&1 &
    echo $! >"$STATE/kafka.pid"
    # The broker writes the bootstrap list, then the control address: wait for both.
    { wait_for_file "$STATE/kafka-brokers" 30 && wait_for_file "$STATE/kafka-control" 10; } \
      || { cat "$STATE/kafka.log"; die "the mock cluster did not start"; }
    say "Kafka mock cluster: $(cat "$STATE/kafka-brokers"), control $(cat "$STATE/kafka-control")"
  fi
  cat "$STATE/kafka-brokers"
}

stop() {
  if [ -f "$STATE/kafka.pid" ]; then
    kill -TERM "$(cat "$STATE/kafka.pid")" 2>/dev/null || true
    rm -f "$STATE/kafka.pid"
    say "Kafka mock cluster stopped"
  fi
}

control() {
  local address host port answer
  address="$(cat "$STATE/kafka-control")"
  host="${address%:*}"; port="${address##*:}"
  exec 3<>"/dev/tcp/$host/$port"
  echo "$*" >&3
  read -r answer <&3
  exec 3>&-
  echo "$answer"
  [[ "$answer" == ok* ]]
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  control) shift; control "$@" ;;
  *) echo "usage: $0 start [BROKERS] | stop | control CMD" >&2; exit 2 ;;
esac
