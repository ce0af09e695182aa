#!/usr/bin/env bash
# cli.plot: `atoll plot` on real --metrics files of the chromatic, locking and Pregel engines (one
# of them on 2 ranks) writes a PNG of the expected size; a malformed file fails naming it; a
# --label count that does not match fails as a usage error. Skipped (exit 77) without matplotlib.
#   plot_test.sh ATOLL_BINARY
set -euo pipefail
atoll=$1
# atoll plot runs python3 from PATH, falling back to Debian's /usr/bin/python3 for matplotlib.
python3 -c 'import matplotlib' 2>/dev/null || /usr/bin/python3 -c 'import matplotlib' 2>/dev/null ||
  { echo "plot: python3-matplotlib missing: skipped"; exit 77; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/atoll-plot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
die() { echo "plot: FAILED: $*" >&2; exit 1; }

"$atoll" generate kronecker --scale 9 --edge-factor 8 --seed 2 --out "$tmp/g.el" >/dev/null
"$atoll" run pagerank --graph "$tmp/g.el" --iterations 8 --tol 0 --threads 1 -q \
  --metrics "$tmp/chromatic.json" >/dev/null
"$atoll" run pagerank --graph "$tmp/g.el" --iterations 8 --tol 0 --threads 1 -q --ranks 2 \
  --transport tcp --engine locking --metrics "$tmp/locking.json" >/dev/null
"$atoll" run sssp --graph "$tmp/g.el" --source 1 --threads 1 -q --engine pregel \
  --metrics "$tmp/pregel.json" >/dev/null

"$atoll" plot "$tmp/chromatic.json" "$tmp/locking.json" "$tmp/pregel.json" --out "$tmp/p.png" \
  --label chromatic --label "locking, 2 ranks" --label pregel --title "plot test" ||
  die "atoll plot failed"
python3 - "$tmp/p.png" <<'PY' || die "the PNG is not a 1500x800 image"
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
width, height = struct.unpack(">II", data[16:24])
assert (width, height) == (1500, 800), (width, height)
PY

# scripts/perf-run.sh's output: one series per configuration.
python3 - "$tmp" <<'PY'
import json, sys
d = sys.argv[1]
runs = [{"config": c, "metrics": json.load(open(f"{d}/{c}.json"))} for c in ("chromatic", "locking")]
json.dump({"app": "pagerank", "graph": "g.el", "runs": runs}, open(f"{d}/perf.json", "w"))
PY
"$atoll" plot "$tmp/perf.json" --out "$tmp/perf.png" --label one --label two >/dev/null ||
  die "atoll plot of a perf-run.sh file failed"
[[ -s $tmp/perf.png ]] || die "no PNG for a perf-run.sh file"

echo '{"iteration_log": [{"iteration": 0, "updates": ' > "$tmp/bad.json"
if "$atoll" plot "$tmp/bad.json" --out "$tmp/bad.png" 2>"$tmp/err"; then die "a malformed file plotted"; fi
grep -q "bad.json:.*not valid JSON" "$tmp/err" || { cat "$tmp/err" >&2; die "no error naming bad.json"; }
[[ ! -e $tmp/bad.png ]] || die "a PNG was written for a malformed file"
echo '{"iteration_log": [{"iteration": 0, "updates": "many"}]}' > "$tmp/bad2.json"
if "$atoll" plot "$tmp/bad2.json" --out "$tmp/bad.png" 2>"$tmp/err"; then die "a bad field plotted"; fi
grep -q 'bad2.json: iteration_log\[0\].updates: expected a number' "$tmp/err" ||
  { cat "$tmp/err" >&2; die "no error naming the bad field"; }
# Every rank's timeline is read: a bad sample of rank 1 is named.
python3 - "$tmp" <<'PY' || die "the 2-rank locking run has no timeline per rank"
import json, sys
d = sys.argv[1]
m = json.load(open(f"{d}/locking.json"))
per_rank = m["engine_details"]["timeline_per_rank"]
assert len(per_rank) == 2 and all(per_rank), per_rank
per_rank[1][0]["seconds"] = "soon"
json.dump(m, open(f"{d}/bad3.json", "w"))
PY
if "$atoll" plot "$tmp/bad3.json" --out "$tmp/bad.png" 2>"$tmp/err"; then die "a bad rank-1 sample plotted"; fi
grep -q 'bad3.json: engine_details.timeline_per_rank\[1\]\[0\].seconds: expected a number' "$tmp/err" ||
  { cat "$tmp/err" >&2; die "no error naming rank 1's bad sample"; }
set +e
"$atoll" plot "$tmp/chromatic.json" --out "$tmp/x.png" --label a --label b 2>"$tmp/err"
code=$?
set -e
[[ $code == 2 ]] || die "a --label count mismatch exited $code, not 2"
echo "plot: ok"
