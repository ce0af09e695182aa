#!/usr/bin/env bash
# Sets up dependencies, builds Atoll, and runs the main job: generate a Kronecker graph
# (scale 16, edge factor 16), print its statistics with `atoll info`, and run PageRank on it
# (one rank for now; the distributed engine will run it on several local ranks).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$root/build"
atoll="$root/build/apps/atoll"
graph="$root/build/default-kron16.el"
"$atoll" generate kronecker --scale 16 --edge-factor 16 --seed 1 --out "$graph"
"$atoll" info "$graph" --symmetrize --dedup
"$atoll" run pagerank --graph "$graph" --symmetrize --dedup --top 10
