#!/usr/bin/env bash
# examples.build_and_run: installs the build tree into a temporary prefix, checks the installed
# tree (tool, libraries, public headers only, package config), configures and builds every
# example in examples/ against that prefix as an outside project would (find_package(Atoll),
# no other flags), runs each on one rank and under `atoll launch -n 2`, and checks the outputs
# against an independent Python computation (reference.py). Also checks that the example in
# docs/programming.md is the one compiled here, and that bad input fails with a message.
#   build_and_run.sh BUILD_DIR SOURCE_DIR
set -euo pipefail
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/atoll-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say() { echo "examples: $*"; }
die() { echo "examples: FAILED: $*" >&2; exit 1; }

prefix=$tmp/prefix
cmake --install "$build" --prefix "$prefix" >/dev/null
atoll=$prefix/bin/atoll
[[ -x $atoll ]] || die "no bin/atoll in the installed prefix"
for f in include/atoll/atoll.hpp share/atoll/atoll_plot.py AtollConfig.cmake AtollTargets.cmake \
    libatoll_engine.a libatoll_common.a; do
  [[ -n $(find "$prefix" -path "*/$f") ]] || die "installed prefix has no $f"
done
# Only public headers: every installed header comes from a layer's include/ folder.
while IFS= read -r h; do
  rel=${h#"$prefix/include/"}
  found=0
  for layer in common transport graph engine; do
    [[ -f $src/$layer/include/$rel ]] && found=1
  done
  ((found)) || die "installed header $rel is not a public header (include/atoll/...)"
done < <(find "$prefix/include" -type f)
say "installed into a temporary prefix: $(find "$prefix" -type f | wc -l) files"

# The guide's complete example is the personalised PageRank example, verbatim.
awk '/<!-- begin examples\/personalized_pagerank\/main.cpp -->/{on=1; next}
     /<!-- end examples\/personalized_pagerank\/main.cpp -->/{on=0} on' \
  "$src/docs/programming.md" | sed '1d;$d' > "$tmp/guide.cpp"
diff -u "$src/examples/personalized_pagerank/main.cpp" "$tmp/guide.cpp" >&2 ||
  die "docs/programming.md's example differs from examples/personalized_pagerank/main.cpp"

# Build each example as an outside project (ccache shared across temporary directories; the
# warning flags are the test's, an example needs none).
export CCACHE_BASEDIR=$tmp CCACHE_NOHASHDIR=1
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
for ex in personalized_pagerank pregel_bfs; do
  cp -r "$src/examples/$ex" "$tmp/$ex"
  cmake -S "$tmp/$ex" -B "$tmp/$ex/build" "${generator[@]}" "${launcher[@]}" \
    -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_CXX_FLAGS="-Wall -Wextra -Werror" \
    >"$tmp/$ex.configure.log" 2>&1 ||
    { cat "$tmp/$ex.configure.log" >&2; die "configuring $ex against the installed package"; }
  cmake --build "$tmp/$ex/build" -j "${JOBS:-2}" >"$tmp/$ex.build.log" 2>&1 ||
    { cat "$tmp/$ex.build.log" >&2; die "building $ex against the installed package"; }
  say "built $ex"
done

graph=$tmp/g.el
"$atoll" generate kronecker --scale 9 --edge-factor 8 --seed 7 --out "$graph" >/dev/null
source=$(python3 "$src/tests/examples/reference.py" pick "$graph")
ppr=$tmp/personalized_pagerank/build/personalized_pagerank
bfs=$tmp/pregel_bfs/build/pregel_bfs
check() {  # check MODE OUT COMMAND...
  local mode=$1 out=$2
  shift 2
  "$@" >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log" >&2; die "$* failed"; }
  python3 "$src/tests/examples/reference.py" "$mode" "$graph" "$source" "$out" ||
    die "$* gave a wrong result"
}
check ppr "$tmp/ppr1.tsv" "$ppr" "$graph" "$source" "$tmp/ppr1.tsv"
check ppr "$tmp/ppr2.tsv" "$atoll" launch -n 2 -- "$ppr" "$graph" "$source" "$tmp/ppr2.tsv"
check ppr "$tmp/ppr3.tsv" "$atoll" launch -n 2 -- "$ppr" "$graph" "$source" "$tmp/ppr3.tsv" locking
check bfs "$tmp/bfs1.tsv" "$bfs" "$graph" "$source" "$tmp/bfs1.tsv"
check bfs "$tmp/bfs2.tsv" "$atoll" launch -n 2 -- "$bfs" "$graph" "$source" "$tmp/bfs2.tsv"
if command -v mpirun >/dev/null; then  # a user's program under mpirun, as the guide says
  check bfs "$tmp/bfs3.tsv" mpirun --allow-run-as-root --oversubscribe -n 2 \
    "$bfs" "$graph" "$source" "$tmp/bfs3.tsv"
fi

# Bad input stops with a message naming it and a non-zero exit.
if "$bfs" "$graph" 999999999 "$tmp/bad.tsv" >"$tmp/bad.log" 2>&1; then
  die "pregel_bfs with a missing source succeeded"
fi
grep -q "source 999999999 is not a vertex of $graph" "$tmp/bad.log" ||
  { cat "$tmp/bad.log" >&2; die "pregel_bfs with a missing source did not say why"; }
# ... on every rank (the examples check their input collectively, before the run).
if "$atoll" launch -n 2 -- "$ppr" "$graph" 999999999 "$tmp/bad.tsv" >"$tmp/bad.log" 2>&1; then
  die "personalized_pagerank on 2 ranks with a missing source succeeded"
fi
for r in 0 1; do
  grep -q "^\[$r\] personalized_pagerank: source 999999999 is not a vertex" "$tmp/bad.log" ||
    { cat "$tmp/bad.log" >&2; die "rank $r did not say why personalized_pagerank stopped"; }
done
if "$ppr" "$tmp/no-such-graph.el" 1 "$tmp/bad.tsv" >"$tmp/bad.log" 2>&1; then
  die "personalized_pagerank on a missing file succeeded"
fi
grep -q "no-such-graph.el" "$tmp/bad.log" ||
  { cat "$tmp/bad.log" >&2; die "personalized_pagerank on a missing file did not name it"; }
say "all examples built against the installed package and matched the reference on 1 and 2 ranks"
