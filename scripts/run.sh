#!/usr/bin/env bash
# Sets up dependencies, builds Atoll, and runs the main job: for now, generate a Kronecker
# graph (scale 16, edge factor 16) and print its statistics with `atoll info`.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$root/build"
atoll="$root/build/apps/atoll"
graph="$root/build/default-kron16.el"
"$atoll" generate kronecker --scale 16 --edge-factor 16 --seed 1 --out "$graph"
"$atoll" info "$graph" --symmetrize --dedup
