#!/usr/bin/env bash
# The locking engine's pipeline length against throughput and lock latency: one app on local
# ranks over UCX and TCP, for each --pipeline value, REPEAT runs each (alternating values so
# outside load hits all alike); prints a table of medians and writes every run as JSON.
#
#   scripts/bench-pipeline.sh [OUT.json] [-- APP ARGS...]
#   env: PIPELINES="1 10 100 1000 10000", TRANSPORTS="ucx tcp", RANKS=2, THREADS=1, REPEAT=3,
#        ATOLL (default build/apps/atoll), GRAPH (default: a generated Kronecker graph of scale
#        14, symmetrized), APP=pagerank, CONSISTENCY=edge
# Default app arguments: --dynamic --tol 1e-4 (PageRank's updates lock their whole scope).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=bench-pipeline.json
if [[ $# -gt 0 && $1 != -- ]]; then out=$1; shift; fi
[[ ${1:-} == -- ]] && shift
args=("$@")
((${#args[@]})) || args=(--dynamic --tol 1e-4)
atoll="${ATOLL:-$root/build/apps/atoll}"
[[ -x $atoll ]] || bash "$root/scripts/build.sh" "$root/build"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
graph=${GRAPH:-}
if [[ -z $graph ]]; then
  graph=$tmp/kron14.el
  "$atoll" generate kronecker --scale 14 --edge-factor 8 --seed 1 --out "$graph" >/dev/null
  args+=(--symmetrize --dedup)
fi
runs=()
for ((i = 0; i < ${REPEAT:-3}; ++i)); do
  for transport in ${TRANSPORTS:-ucx tcp}; do
    for pipeline in ${PIPELINES:-1 10 100 1000 10000}; do
      "$atoll" run "${APP:-pagerank}" --graph "$graph" --engine locking \
        --consistency "${CONSISTENCY:-edge}" --ranks "${RANKS:-2}" --threads "${THREADS:-1}" \
        --transport "$transport" --pipeline "$pipeline" --metrics "$tmp/m.json" "${args[@]}" \
        >"$tmp/log" 2>&1 || { cat "$tmp/log" >&2; exit 1; }
      runs+=("$(python3 - "$tmp/m.json" "$transport" "$pipeline" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
d = m["engine_details"]
w = d["lock_wait_ns_rank0"]
print(json.dumps({
    "transport": sys.argv[2], "pipeline": int(sys.argv[3]), "ranks": m["ranks"],
    "run_seconds": m["run_seconds"], "steal_seconds": m.get("steal_seconds", 0),
    "updates": m["updates"],
    "updates_per_second": m["updates"] / max(m["run_seconds"], 1e-9),
    "lock_wait_p50_us": w["p50"] / 1e3, "lock_wait_p99_us": w["p99"] / 1e3,
    "bytes_per_update_rank0": d["bytes_per_update_rank0"], "phases": d["phases"],
    "fallbacks": d["fallbacks"], "scopes": d["scopes"]}))
PY
)")
    done
  done
done
printf '{"app": "%s", "graph": "%s", "runs": [%s]}\n' "${APP:-pagerank}" "$graph" \
  "$(IFS=,; echo "${runs[*]}")" > "$out"
python3 - "$out" <<'PY'
import json, statistics, sys
runs = json.load(open(sys.argv[1]))["runs"]
keys = sorted({(r["transport"], r["pipeline"]) for r in runs})
print("%-9s %9s %12s %12s %12s %12s" % ("transport", "pipeline", "Mupd/s", "wait p50 us",
                                         "wait p99 us", "bytes/upd"))
for t, p in keys:
    rs = [r for r in runs if r["transport"] == t and r["pipeline"] == p]
    med = lambda k: statistics.median(r[k] for r in rs)
    print("%-9s %9d %12.3f %12.0f %12.0f %12.0f" % (t, p, med("updates_per_second") / 1e6,
          med("lock_wait_p50_us"), med("lock_wait_p99_us"), med("bytes_per_update_rank0")))
PY
echo "wrote $out" >&2
