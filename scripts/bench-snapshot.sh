#!/usr/bin/env bash
# What a checkpoint costs the locking engine while it runs (the Distributed GraphLab paper's
# snapshot figure): one app on local ranks with no checkpoint, with the asynchronous snapshot
# (--snapshot-every), and with synchronous epochs between phases (--sync-every N
# --checkpoint-interval), REPEAT runs of each, alternated. Prints medians of run time and
# updates per second, the slowest 0.25 s window's rate (the dip), the epochs written and their
# mean time, and writes every run as JSON.
#
#   scripts/bench-snapshot.sh [OUT.json] [-- APP ARGS...]
#   env: EVERY=1 (seconds between epochs), SYNC_EVERY=50000 (updates per phase, sync mode),
#        RANKS=2, THREADS=1, TRANSPORT=ucx, REPEAT=3, ATOLL (default build/apps/atoll),
#        GRAPH (default: a generated Kronecker graph of scale 16, symmetrized), APP=pagerank
# Default app arguments: --dynamic --tol 1e-7 --consistency edge.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=bench-snapshot.json
if [[ $# -gt 0 && $1 != -- ]]; then out=$1; shift; fi
[[ ${1:-} == -- ]] && shift
args=("$@")
((${#args[@]})) || args=(--dynamic --tol 1e-7 --consistency edge)
atoll="${ATOLL:-$root/build/apps/atoll}"
[[ -x $atoll ]] || bash "$root/scripts/build.sh" "$root/build"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
graph=${GRAPH:-}
if [[ -z $graph ]]; then
  graph=$tmp/kron16.el
  "$atoll" generate kronecker --scale 16 --edge-factor 8 --seed 1 --out "$graph" >/dev/null
  args+=(--symmetrize --dedup)
fi
every=${EVERY:-1}
runs=()
for ((i = 0; i < ${REPEAT:-3}; ++i)); do
  for mode in none async sync; do
    rm -rf "$tmp/ck"
    extra=()
    case $mode in
      async) extra=(--checkpoint-dir "$tmp/ck" --snapshot-every "$every") ;;
      sync) extra=(--checkpoint-dir "$tmp/ck" --checkpoint-interval "$every"
                   --sync-every "${SYNC_EVERY:-50000}") ;;
    esac
    "$atoll" run "${APP:-pagerank}" --graph "$graph" --engine locking --ranks "${RANKS:-2}" \
      --threads "${THREADS:-1}" --transport "${TRANSPORT:-ucx}" --metrics "$tmp/m.json" \
      "${args[@]}" "${extra[@]}" >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
    runs+=("$(python3 - "$tmp/m.json" "$mode" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
t = m["engine_details"]["timeline_rank0"]
window, rates = 0.25, []
j = 0
for s in t:  # rank 0's updates per second over the last >= 0.25 s before each sample
    while j + 1 < len(t) and t[j + 1]["seconds"] <= s["seconds"] - window:
        j += 1
    if s["seconds"] - t[j]["seconds"] >= window:
        rates.append((s["updates"] - t[j]["updates"]) / (s["seconds"] - t[j]["seconds"]))
epochs = m.get("checkpoints", {}).get("epochs", [])
print(json.dumps({
    "mode": sys.argv[2], "run_seconds": m["run_seconds"], "updates": m["updates"],
    "updates_per_second": m["updates"] / max(m["run_seconds"], 1e-9),
    "slowest_window_rank0": min(rates[1:-1]) if len(rates) > 2 else None,
    "median_window_rank0": sorted(rates)[len(rates) // 2] if rates else None,
    "epochs": len(epochs),
    "epoch_seconds": sum(e["seconds"] for e in epochs) / len(epochs) if epochs else 0,
    "epoch_bytes": epochs[-1]["bytes"] if epochs else 0}))
PY
)")
  done
done
printf '{"app": "%s", "graph": "%s", "every": %s, "runs": [%s]}\n' "${APP:-pagerank}" "$graph" \
  "$every" "$(IFS=,; echo "${runs[*]}")" > "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))["runs"]
print("%-6s %9s %11s %14s %14s %7s %10s %9s" % ("mode", "run s", "Mupd/s", "window med", "slowest win",
                                               "epochs", "epoch s", "MB/epoch"))
for mode in ("none", "async", "sync"):
    rs = [r for r in runs if r["mode"] == mode]
    med = lambda k: statistics.median([r[k] for r in rs if r[k] is not None] or [0])
    print("%-6s %9.3f %11.3f %14.0f %14.0f %7.0f %10.3f %9.1f" % (
        mode, med("run_seconds"), med("updates_per_second") / 1e6, med("median_window_rank0"),
        med("slowest_window_rank0"), med("epochs"), med("epoch_seconds"),
        med("epoch_bytes") / 1e6))
PY
