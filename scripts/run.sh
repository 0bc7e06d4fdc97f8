#!/usr/bin/env bash
# Installs what is missing, builds, and starts keel-server in the foreground on its defaults
# (127.0.0.1:6379, data in ./data). Extra arguments go to keel-server, e.g.
#   scripts/run.sh --port 6380 --appendfsync always
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bash "$root/scripts/deps.sh"
bash "$root/scripts/build.sh" keel-server >/dev/null
cd "$root"
exec "${KEEL_BUILD_DIR:-$root/build}/server/keel-server" "$@"
