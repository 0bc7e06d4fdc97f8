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
# Progress goes to stderr; the only line on stdout is the build directory.
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE="${KEEL_BUILD_TYPE:-RelWithDebInfo}" "${extra[@]}" >&2
if [ "$#" -gt 0 ]; then
  cmake --build "$build" -j "$jobs" --target "$@" >&2
else
  cmake --build "$build" -j "$jobs" >&2
fi
echo "$build"
