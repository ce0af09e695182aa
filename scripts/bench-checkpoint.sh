#!/usr/bin/env bash
# What synchronous checkpoints cost a fast run (issue 14's goal: under 10% more time): static
# PageRank for ITERATIONS sweeps on local ranks, without epochs and with one every EVERY sweeps,
# REPEAT pairs alternated. Prints each run, the medians and the median of the pair ratios, and
# writes every run as JSON.
#
#   scripts/bench-checkpoint.sh GRAPH [OUT.json]
#   env: RANKS=2, THREADS=1, TRANSPORT=ucx, ITERATIONS=50, EVERY=10, REPEAT=5,
#        ATOLL (default build/apps/atoll), CKDIR (default: a temporary directory; put it on
#        the disk you mean to measure)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ $# -ge 1 ]] || { echo "usage: $0 GRAPH [OUT.json]" >&2; exit 2; }
graph=$1
out=${2:-bench-checkpoint.json}
atoll="${ATOLL:-$root/build/apps/atoll}"
[[ -x $atoll ]] || bash "$root/scripts/build.sh" "$root/build"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
ckdir=${CKDIR:-$tmp}/bench-checkpoint-epochs
runs=()
for ((i = 0; i < ${REPEAT:-5}; ++i)); do
  for mode in plain checkpointed; do
    rm -rf "$ckdir"
    extra=()
    [[ $mode == checkpointed ]] && extra=(--checkpoint-dir "$ckdir" --checkpoint-every "${EVERY:-10}")
    "$atoll" run pagerank --graph "$graph" --tol 0 --iterations "${ITERATIONS:-50}" \
      --ranks "${RANKS:-2}" --threads "${THREADS:-1}" --transport "${TRANSPORT:-ucx}" \
      --metrics "$tmp/m.json" "${extra[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
    runs+=("$(python3 - "$tmp/m.json" "$mode" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
epochs = m.get("checkpoints", {}).get("epochs", [])
print(json.dumps({"mode": sys.argv[2], "seconds": m["setup_seconds"] + m["run_seconds"],
                  "setup_seconds": m["setup_seconds"], "epochs": len(epochs),
                  "epoch_seconds": [e["seconds"] for e in epochs],
                  "epoch_bytes": epochs[-1]["bytes"] if epochs else 0}))
PY
)")
    echo "${runs[-1]}"
  done
done
printf '{"graph": "%s", "ranks": %s, "threads": %s, "every": %s, "runs": [%s]}\n' "$graph" \
  "${RANKS:-2}" "${THREADS:-1}" "${EVERY:-10}" "$(IFS=,; echo "${runs[*]}")" > "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))["runs"]
plain = [r["seconds"] for r in runs if r["mode"] == "plain"]
ck = [r for r in runs if r["mode"] == "checkpointed"]
writes = [s for r in ck for s in r["epoch_seconds"]]
print("plain median %.3f s, checkpointed median %.3f s (%d epochs of %.1f MB, %.4f s median write), "
      "setup %.3f s against %.3f s" % (
          statistics.median(plain), statistics.median([r["seconds"] for r in ck]), ck[0]["epochs"],
          ck[0]["epoch_bytes"] / 1e6, statistics.median(writes) if writes else 0,
          statistics.median([r["setup_seconds"] for r in ck]),
          statistics.median([r["setup_seconds"] for r in runs if r["mode"] == "plain"])))
print("median pair ratio %.3f" % statistics.median([c["seconds"] / p for p, c in zip(plain, ck)]))
PY
