#!/usr/bin/env bash
# Checks that every Swift file is as `swift format` (shipped with the toolchain, configured by
# .swift-format) leaves it: the tracked files are formatted in a scratch copy and compared.
# Apply the format with:  swift format format --in-place --parallel --recursive Package.swift Services Shared Tests ops
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
git ls-files -z '*.swift' .swift-format | xargs -0 cp --parents -t "$scratch"
(cd "$scratch" && swift format format --in-place --parallel --recursive .)
changed=0
while IFS= read -r -d '' file; do
  if ! cmp -s "$file" "$scratch/$file"; then
    [ "$changed" -eq 0 ] && say "not formatted (swift format would change them):"
    echo "  $file" >&2
    changed=$((changed + 1))
  fi
done < <(git ls-files -z '*.swift')
[ "$changed" -eq 0 ] || die "$changed Swift files are not formatted; run the command at the top of ops/test/format-check.sh"
say "every Swift file is formatted"
