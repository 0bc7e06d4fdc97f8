#!/usr/bin/env bash
# Builds Keel into build/ (or $KEEL_BUILD_DIR). Usage: scripts/build.sh [--asan] [target...]
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build="${KEEL_BUILD_DIR:-$root/build}"
extra=()
if [ "${1:-}" = "--asan" ]; then
  shift
  build="${KEEL_BUILD_DIR:-$root/build-asan}"
  extra=(-DKEEL_SANITIZE=ON)
fi
jobs="${KEEL_JOBS:-$(nproc)}"
[ "$jobs" -gt 2 ] && jobs=2  # more only thrashes on the 2-core machines this runs on
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${KEEL_BUILD_TYPE:-RelWithDebInfo}" "${extra[@]}" >/dev/null
if [ "$#" -gt 0 ]; then
  cmake --build "$build" -j "$jobs" --target "$@"
else
  cmake --build "$build" -j "$jobs"
fi
echo "$build"
