#!/usr/bin/env bash
# Runs one app on one graph over several rank counts and transports and writes the results as
# JSON (one object per configuration: load and run time, time per sweep, updates, and bytes
# sent between ranks against the lower bound of changed boundary vertices x replicas x size).
#
#   scripts/perf-run.sh APP GRAPH [OUT.json] [-- APP ARGS...]
#   env: CONFIGS="1x2 2x1:ucx 2x1:tcp" (RANKSxTHREADS[:TRANSPORT]), REPEAT=1,
#        ATOLL=path of the atoll binary (default build/apps/atoll; to compare two builds)
# Example: scripts/perf-run.sh pagerank build/bench-data/kron20.el perf.json -- --iterations 20 --tol 0
# Plot every configuration's run: atoll plot perf.json --out perf.png (one series per config).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
app=${1:?app}; graph=${2:?graph}; shift 2
out=perf-$app-$(basename "$graph").json
if [[ $# -gt 0 && $1 != -- ]]; then out=$1; shift; fi
[[ ${1:-} == -- ]] && shift
atoll="${ATOLL:-$root/build/apps/atoll}"
[[ -x $atoll ]] || bash "$root/scripts/build.sh" "$root/build"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
results=()
for config in ${CONFIGS:-1x2 2x1:ucx 2x1:tcp}; do
  shape=${config%%:*}; transport=ucx; [[ $config == *:* ]] && transport=${config#*:}
  ranks=${shape%x*}; threads=${shape#*x}
  for ((i = 0; i < ${REPEAT:-1}; ++i)); do
    "$atoll" run "$app" --graph "$graph" --ranks "$ranks" --threads "$threads" \
      --transport "$transport" --metrics "$tmp/m.json" "$@" > "$tmp/log" 2>&1 ||
      { cat "$tmp/log" >&2; exit 1; }
    results+=("$(python3 - "$tmp/m.json" "$config" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
sweeps = max(m.get("iterations", m.get("sweeps", 0)), 1)  # "sweeps" before the engine layer
ranks = m.get("per_rank", [])
sent = sum(r["bytes_sent"] for r in ranks)
lower = sum(r.get("bytes_lower_bound", 0) for r in ranks)
print(json.dumps({
    "config": sys.argv[2], "ranks": m["ranks"], "transport": m["transport"],
    "workers": m["workers"], "load_seconds": m["load_seconds"],
    "setup_seconds": m["setup_seconds"], "run_seconds": m["run_seconds"],
    "steal_seconds": m.get("steal_seconds", 0), "sweeps": sweeps, "seconds_per_sweep": m["run_seconds"] / sweeps,
    "updates": m["updates"], "bytes_sent": sent, "bytes_per_sweep": sent / sweeps,
    "bytes_lower_bound": lower, "bytes_over_lower_bound": (sent / lower) if lower else None,
    "per_rank": ranks, "metrics": m}))  # "metrics": the whole file, for atoll plot
PY
)")
    echo "$config: $(echo "${results[-1]}" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("%.4f s/sweep, %d sweeps, load %.2f s, %.1f MB/sweep sent, %.2fx lower bound" % (r["seconds_per_sweep"], r["sweeps"], r["load_seconds"], r["bytes_per_sweep"]/1e6, r["bytes_over_lower_bound"] or 0))')" >&2
  done
done
printf '{"app": "%s", "graph": "%s", "runs": [%s]}\n' "$app" "$graph" "$(IFS=,; echo "${results[*]}")" > "$out"
echo "wrote $out" >&2
