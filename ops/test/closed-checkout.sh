#!/usr/bin/env bash
# The scripts work from a checkout the 'postgres' user cannot enter (a clone under root's home,
# or any folder of mode 700): ops/postgres.sh starts, answers, stops and resets a cluster there.
# Meaningful as root only (as a user, the server runs as that user and reaches the folder).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

[ "$(id -u)" -eq 0 ] || { say "closed checkout: not root, nothing to check"; exit 0; }
closed="$(mktemp -d /tmp/closed-checkout.XXXXXX)"
chmod 700 "$closed"
mkdir -p "$closed/checkout"
cp -r "$ROOT/ops" "$closed/checkout/"
export STATE="$closed/checkout/.local/test"
scripts="$closed/checkout/ops"
cleanup() { bash "$scripts/postgres.sh" reset >/dev/null 2>&1 || true; rm -rf "$closed"; }
trap cleanup EXIT

runuser -u postgres -- test -x "$closed" 2>/dev/null && die "the folder is not closed to postgres; the check would prove nothing"
url="$(bash "$scripts/postgres.sh" start)"
[ "$(psql "$url" -qtAc 'SELECT 41 + 1')" = "42" ] || die "PostgreSQL under a closed checkout did not answer"
bash "$scripts/postgres.sh" stop
bash "$scripts/postgres.sh" reset
say "closed checkout: PostgreSQL started, answered and stopped from a folder of mode 700"
