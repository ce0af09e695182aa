#!/usr/bin/env bash
# Side by side with GAPBS (../shared/peers/gapbs): PageRank, connected components and SSSP of
# GAPBS and of Atoll on the same graph with the same thread count, runs alternating between the
# two, medians and ratios (Atoll / GAPBS) per kernel. Both sides time the kernel only: GAPBS the
# "Trial Time" of its second trial in each process (the first includes starting OpenMP's
# threads; pr: divided by its iterations), Atoll the run_seconds of `atoll run --metrics` (its
# worker threads start in the engine's set-up, reported apart; pr: divided by its iterations;
# cc includes its local union-find). Loading is not timed on either side. Atoll's pr relabels
# the vertices by descending degree as it loads (--degree-order; DEGREE_ORDER=0: as numbered),
# GAPBS's pr runs on its graph as converted. Both read 4-byte rank shares (GAPBS's ScoreT is a
# float; Atoll's pr --float; FLOAT=0: Atoll's shares as doubles).
#
#   scripts/compare-gapbs.sh GRAPH [--json FILE]        GRAPH: any graph atoll reads
#   scripts/compare-gapbs.sh --scale N [--json FILE]    a Kronecker graph from GAPBS's converter
#   env: THREADS=2 RUNS=5 PR_ITERATIONS=20 SSSP_DELTA=2 SOURCE=(first vertex of the graph)
#        KERNELS="pr cc sssp" (a subset to run) DEGREE_ORDER=1 (Atoll's pr: --degree-order)
#        FLOAT=1 (Atoll's pr: --float)
#        HUGE_PAGES=1: both sides with malloc's transparent huge pages (atoll asks glibc for them
#        itself, README "Huge pages"; GAPBS gets the same GLIBC_TUNABLES); 0: neither
#        WORK=build/compare-gapbs (converted graphs, kept between runs) ATOLL=build/apps/atoll
#        GAPBS_DIR=(a built GAPBS copy; default: ../shared/peers/gapbs copied to build/gapbs)
#
# Inputs: the graph symmetrized without duplicates or self-loops (as GAPBS's converter -s
# makes it) is written once as a text edge list for GAPBS and as Atoll's binary format; for
# SSSP the same arcs get integer weights 1..255 (one weight per undirected edge, from a hash of
# its endpoints), read by both sides, so both compute the same distances from SOURCE.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
usage() {
  sed -n '10,11p' "${BASH_SOURCE[0]}" | sed 's/^# *//' >&2
  exit 2
}
graph="" scale="" json=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --scale) scale=${2:?--scale needs a number}; shift 2 ;;
    --json) json=${2:?--json needs a file}; shift 2 ;;
    -h | --help) usage ;;
    -*) echo "compare-gapbs: unknown option $1" >&2; usage ;;
    *) [[ -z $graph ]] || { echo "compare-gapbs: one graph only" >&2; usage; }; graph=$1; shift ;;
  esac
done
[[ -n $graph || -n $scale ]] || usage
[[ -z $graph || -z $scale ]] || { echo "compare-gapbs: GRAPH or --scale, not both" >&2; exit 2; }
[[ -z $scale || $scale =~ ^[0-9]+$ ]] || { echo "compare-gapbs: --scale $scale is not a number" >&2; exit 2; }
[[ -z $graph || -r $graph ]] || { echo "compare-gapbs: cannot read $graph" >&2; exit 2; }
threads=${THREADS:-2} runs=${RUNS:-5} iterations=${PR_ITERATIONS:-20} delta=${SSSP_DELTA:-2}
degree_order=${DEGREE_ORDER:-1}
huge_pages=${HUGE_PAGES:-1}
gapbs_tunables=${GLIBC_TUNABLES:-}
# A tunable the user named already stands on both sides (atoll keeps it too).
[[ $huge_pages == 0 || $gapbs_tunables == *glibc.malloc.hugetlb* ]] ||
  gapbs_tunables=${gapbs_tunables:+$gapbs_tunables:}glibc.malloc.hugetlb=1
pr_order=()
[[ $degree_order == 0 ]] || pr_order=(--degree-order)
[[ ${FLOAT:-1} == 0 ]] || pr_order+=(--float)
kernels=${KERNELS:-pr cc sssp}
for kernel in $kernels; do
  [[ $kernel == pr || $kernel == cc || $kernel == sssp ]] ||
    { echo "compare-gapbs: KERNELS: '$kernel' is not pr, cc or sssp" >&2; exit 2; }
done
for n in "$threads" "$runs" "$iterations"; do
  [[ $n =~ ^[1-9][0-9]*$ ]] || { echo "compare-gapbs: THREADS, RUNS, PR_ITERATIONS must be positive" >&2; exit 2; }
done
work=${WORK:-$root/build/compare-gapbs}
atoll=${ATOLL:-$root/build/apps/atoll}

# ---- GAPBS: a built copy, or build one from ../shared/peers/gapbs ----
gapbs=${GAPBS_DIR:-}
if [[ -z $gapbs ]]; then
  peers=$root/../shared/peers/gapbs
  if [[ ! -d $peers ]]; then
    echo "compare-gapbs: $peers is absent (../shared not here): nothing to compare with, skipping"
    exit 0
  fi
  gapbs=$root/build/gapbs
  if [[ ! -d $gapbs ]]; then
    mkdir -p "$root/build"
    cp -r "$peers" "$gapbs" && chmod -R u+w "$gapbs"
  fi
  # The kept copy has no test/ or benchmark/ folders; its Makefile includes a file from each.
  for mk in test/test.mk benchmark/bench.mk; do
    [[ -e $gapbs/$mk ]] || { mkdir -p "$(dirname "$gapbs/$mk")" && : > "$gapbs/$mk"; }
  done
fi
for kernel in pr cc sssp converter; do
  [[ -x $gapbs/$kernel ]] || make -C "$gapbs" -j2 pr cc sssp converter >&2
done
[[ -x $atoll ]] || bash "$root/scripts/build.sh" "$root/build"

# ---- inputs, converted once into $work ----
mkdir -p "$work"
if [[ -n $scale ]]; then
  name=kron$scale
  graph=$work/$name.gapbs.el
  [[ -s $graph ]] || "$gapbs/converter" -g"$scale" -k16 -e "$graph" >&2
else
  name=$(basename "$graph")
  name=${name%%.*}
fi
base=$work/$name
if [[ ! -s $base.bin || ! -s $base.sg ]]; then
  echo "compare-gapbs: converting $graph (symmetrized, deduplicated) into $work" >&2
  "$atoll" convert "$graph" "$base.sym.txt" --symmetrize --dedup --format snap --threads "$threads" >&2
  grep -v '^#' "$base.sym.txt" > "$base.el"
  rm -f "$base.sym.txt"
  "$atoll" convert "$base.el" "$base.bin" --threads "$threads" >&2
  "$gapbs/converter" -f "$base.el" -s -b "$base.sg" >&2
fi
if [[ $kernels == *sssp* && ( ! -s $base.w.bin || ! -s $base.wsg ) ]]; then
  # Weight of {u, v}: a hash of (min, max) into 1..255, the same in both directions.
  awk '{ a = $1 < $2 ? $1 : $2; b = $1 < $2 ? $2 : $1;
         printf "%s %s %d\n", $1, $2, (a * 2654435761 + b * 40503) % 255 + 1 }' \
    "$base.el" > "$base.wel"
  "$atoll" convert "$base.wel" "$base.w.bin" --threads "$threads" >&2
  "$gapbs/converter" -f "$base.wel" -s -wb "$base.wsg" >&2
fi
source_vertex=${SOURCE:-$(awk 'NR == 1 { print $1; exit }' "$base.el")}

# ---- runs ----
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
results=$tmp/results.tsv  # kernel side seconds [setup seconds]
: > "$results"

gapbs_trial() {  # prints the Trial Time of GAPBS's second trial (the first starts OpenMP's threads)
  OMP_NUM_THREADS=$threads GLIBC_TUNABLES=$gapbs_tunables "$@" -n 2 > "$tmp/gapbs.log" 2>&1 || { cat "$tmp/gapbs.log" >&2; exit 1; }
  awk '/^Trial Time:/ { t = $3 } END { print t }' "$tmp/gapbs.log"
}
gapbs_run() {  # kernel
  local t
  case $1 in
    pr) t=$(gapbs_trial "$gapbs/pr" -f "$base.sg" -i "$iterations" -t 0)
        t=$(python3 -c "print($t / $iterations)") ;;
    cc) t=$(gapbs_trial "$gapbs/cc" -f "$base.sg") ;;
    sssp) t=$(gapbs_trial "$gapbs/sssp" -f "$base.wsg" -r "$source_vertex" -d "$delta") ;;
  esac
  printf '%s\tgapbs\t%s\t0\n' "$1" "$t" >> "$results"
}
atoll_run() {  # kernel
  local args
  case $1 in
    pr) args=(pagerank --graph "$base.bin" --iterations "$iterations" --tol 0 "${pr_order[@]}") ;;
    cc) args=(cc --graph "$base.bin") ;;
    sssp) args=(sssp --graph "$base.w.bin" --source "$source_vertex") ;;
  esac
  ATOLL_HUGE_PAGES=$huge_pages "$atoll" run "${args[@]}" --threads "$threads" --metrics "$tmp/m.json" > "$tmp/atoll.log" 2>&1 ||
    { cat "$tmp/atoll.log" >&2; exit 1; }
  python3 - "$tmp/m.json" "$1" >> "$results" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
per = max(m["iterations"], 1) if sys.argv[2] == "pr" else 1
print("%s\tatoll\t%.9g\t%.9g" % (sys.argv[2], m["run_seconds"] / per, m["setup_seconds"]))
PY
}

echo "compare-gapbs: $name, $threads threads, $runs runs alternating, pr $iterations iterations," \
  "sssp from $source_vertex (delta $delta), Atoll pr ${pr_order[*]:-in input order}," \
  "huge pages $([[ $huge_pages == 0 ]] && echo off || echo 'on, both sides')"
echo "machine: $(date -u '+%F %T UTC'); $(nproc) cores;" \
  "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo);" \
  "shared with other jobs: compare ratios, not absolute times"
echo "uptime before: $(uptime)"
for ((run = 1; run <= runs; ++run)); do
  for kernel in $kernels; do
    if ((run % 2 == 1)); then gapbs_run $kernel; atoll_run $kernel
    else atoll_run $kernel; gapbs_run $kernel; fi
  done
  echo "run $run/$runs done" >&2
done
echo "uptime after:  $(uptime)"
python3 - "$results" "$name" "$threads" "$runs" "$iterations" "$source_vertex" "$json" \
  "$(uptime)" "$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)" \
  "${pr_order[*]:-}" <<'PY'
import json, statistics, sys
path, name, threads, runs, iterations, source, out, uptime, cpu, pr_args = sys.argv[1:11]
samples = {}
for line in open(path):
    kernel, side, seconds, setup = line.split("\t")
    samples.setdefault(kernel, {}).setdefault(side, []).append((float(seconds), float(setup)))
print("%-5s %-32s %-32s %s" % ("", "GAPBS median (min-max)", "Atoll median (min-max)",
                               "ratio Atoll/GAPBS"))
kernels = {}
for kernel in [k for k in ("pr", "cc", "sssp") if k in samples]:
    g = [s for s, _ in samples[kernel]["gapbs"]]
    a = [s for s, _ in samples[kernel]["atoll"]]
    setup = statistics.median(u for _, u in samples[kernel]["atoll"])
    mg, ma = statistics.median(g), statistics.median(a)
    unit = "s/iteration" if kernel == "pr" else "s"
    print("%-5s %-32s %-32s %.3gx   (%s; Atoll engine set-up %.3g s, not included)" % (
        kernel, "%.4g (%.4g-%.4g)" % (mg, min(g), max(g)),
        "%.4g (%.4g-%.4g)" % (ma, min(a), max(a)), ma / mg, unit, setup))
    kernels[kernel] = {"unit": unit, "gapbs_seconds": g, "atoll_seconds": a,
                       "gapbs_median": mg, "atoll_median": ma, "ratio": ma / mg,
                       "atoll_setup_median": setup}
if out:
    with open(out, "w") as f:
        json.dump({"graph": name, "threads": int(threads), "runs": int(runs),
                   "pr_iterations": int(iterations), "sssp_source": int(source), "cpu": cpu,
                   "uptime_after": uptime, "atoll_pr_args": pr_args, "kernels": kernels}, f,
                  indent=1)
    print("wrote " + out)
PY
