#!/usr/bin/env bash
# Sets up dependencies, builds Atoll, and runs the main job: generate the built-in default graph
# (Kronecker, scale 16, edge factor 16), print its statistics with `atoll info`, and run
# PageRank on it on 2 local ranks (over UCX; `RANKS=4 TRANSPORT=tcp` to change), printing the
# top vertices.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bash "$root/scripts/setup.sh"
bash "$root/scripts/build.sh" "$root/build"
atoll="$root/build/apps/atoll"
graph="$root/build/default-kron16.el"
"$atoll" generate kronecker --scale 16 --edge-factor 16 --seed 1 --out "$graph"
"$atoll" info "$graph" --symmetrize --dedup
"$atoll" run pagerank --graph "$graph" --symmetrize --dedup --top 10 \
  --ranks "${RANKS:-2}" --transport "${TRANSPORT:-ucx}"
