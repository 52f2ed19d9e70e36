#!/usr/bin/env bash
# Triage similarity core benchmark (no database, no broker): builds in release mode and prints
# clues/s of MinHash signature + LSH candidate lookup on one core, and recall against brute-force
# Jaccard on a 10,000-clue sample. Arguments pass through (see --help).
export STATE="${STATE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/.local/bench}"
source "$(dirname "${BASH_SOURCE[0]}")/../../lib.sh"
export BUILD_CONFIGURATION=release
cd "$ROOT"
build_quietly -c release --product bench-triage-similarity
"$(bin_path)/bench-triage-similarity" "$@"
