# Shared by the ops scripts: paths, logging, and small helpers. Source it, do not run it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Each stack (the local run, the test run) keeps its state in a git-ignored folder of its own.
STATE="${STATE:-$ROOT/.local/run}"
mkdir -p "$STATE"

say() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { say "error: $*"; exit 1; }

# A free TCP port on loopback at or above $1.
free_port() {
  local port="$1"
  while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
  echo "$port"
}

# Waits up to $2 seconds for a file to appear.
wait_for_file() {
  local file="$1" seconds="${2:-30}" i=0
  while [ ! -s "$file" ]; do
    i=$((i + 1)); [ "$i" -gt $((seconds * 10)) ] && return 1
    sleep 0.1
  done
}

# Waits up to $2 seconds for an HTTP URL to answer 200.
wait_for_http() {
  local url="$1" seconds="${2:-60}" i=0
  until curl -fsS -o /dev/null "$url" 2>/dev/null; do
    i=$((i + 1)); [ "$i" -gt $((seconds * 5)) ] && return 1
    sleep 0.2
  done
}

# Where swift build puts binaries for the configuration in $BUILD_CONFIGURATION (debug by default).
bin_path() {
  swift build -c "${BUILD_CONFIGURATION:-debug}" --show-bin-path
}

# swift build with a short progress line per 200 steps, errors and warnings in full; the whole
# log is kept in $STATE/build.log. Fails when the build fails.
build_quietly() {
  local status
  set +e
  swift build "$@" 2>&1 | tee "$STATE/build.log" \
    | { grep --line-buffered -E "error:|warning: |Build complete|^\[[0-9]*[02468]00/" | grep -v "unhandled; explicitly declare"; true; }
  status="${PIPESTATUS[0]}"
  set -e
  [ "$status" -eq 0 ] || die "build failed; see $STATE/build.log"
}
