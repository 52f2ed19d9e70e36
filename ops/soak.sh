#!/usr/bin/env bash
# The fault suite for longer, by hand: clues through intake at a fixed rate with two instances of
# every consumer while instances are killed with SIGKILL and restarted, brokers go away (one of
# three for 30 s, all for 10 s), PostgreSQL restarts `immediate`, poison is published and the
# brokers get round-trip delay, cycle after cycle; then the load stops, the system drains and the
# invariant check (proposals-ctl check) must hold. The same test runs for 90 s in ops/test.sh.
#
#   ops/soak.sh [--minutes N]     (default 10)
#
# The report (clues accepted, lost, doubled, dead letters, time to drain, longest time not
# ready) is printed and kept in .local/test/fault-suite-report.txt.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

MINUTES=10
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES="$2"; shift 2 ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done
[[ "$MINUTES" =~ ^[1-9][0-9]*$ ]] || die "--minutes must be a whole number of minutes"
[ -z "${TEST_TODAY:-}" ] || die "the fault suite restarts PostgreSQL, which does not come back under libfaketime: run it without TEST_TODAY"
export SOAK_MINUTES="$MINUTES"
say "soaking for $MINUTES minutes of load"
bash "$ROOT/ops/test.sh" --filter FaultSuiteTests
