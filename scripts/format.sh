#!/usr/bin/env bash
# clang-format over every C++ file git tracks (style in .clang-format).
#   scripts/format.sh          reformat in place
#   scripts/format.sh --check  change nothing; list the files that differ and exit 1 if any
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v clang-format >/dev/null || bash "$root/scripts/deps.sh"
mapfile -t files < <(git ls-files '*.cc' '*.h')
if [ "${1:-}" = "--check" ]; then
  bad=()
  for f in "${files[@]}"; do
    clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
  done
  if ((${#bad[@]})); then
    echo "clang-format: ${#bad[@]} file(s) not formatted (run scripts/format.sh):"
    printf '  %s\n' "${bad[@]}"
    exit 1
  fi
  echo "clang-format: ${#files[@]} files formatted"
  exit 0
fi
clang-format -i "${files[@]}"
