#!/usr/bin/env bash
# Configures and builds Atoll. Usage: scripts/build.sh [BUILD_DIR] [extra cmake args...]
# Environment: JOBS (default 2), ATOLL_WERROR (default ON under CI, else OFF).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${1:-"$root/build"}
shift || true
# Paths below the project root are hashed relative to it, so every clone shares the cache.
export CCACHE_BASEDIR="$root" CCACHE_NOHASHDIR=1
werror=${ATOLL_WERROR:-$([[ -n "${CI:-}" ]] && echo ON || echo OFF)}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
if [[ ! -f "$build_dir/CMakeCache.txt" ]]; then
  cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DATOLL_WERROR="$werror" "$@"
else
  cmake "$build_dir" -DATOLL_WERROR="$werror" "$@" >/dev/null
fi
cmake --build "$build_dir" -j "${JOBS:-2}"
