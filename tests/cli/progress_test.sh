#!/usr/bin/env bash
# cli.progress: progress on stderr is one line per iteration when stderr is not a terminal,
# nothing with --quiet, and, under a real terminal (tmux), a single status line rewritten in
# place (iteration, updates/s, residual, bytes sent, elapsed; refreshed during the locking
# engine's phases). The terminal part is skipped
# (exit 77) when tmux is missing.
#   progress_test.sh ATOLL_BINARY
set -euo pipefail
atoll=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/atoll-progress.XXXXXX")
server="atoll-progress-$$"
cleanup() {
  command -v tmux >/dev/null && tmux -L "$server" kill-server 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
die() { echo "progress: FAILED: $*" >&2; exit 1; }

"$atoll" generate kronecker --scale 9 --edge-factor 8 --seed 2 --out "$tmp/g.el" >/dev/null
run=("$atoll" run pagerank --graph "$tmp/g.el" --iterations 6 --tol 0 --threads 1)

# A pipe: plain lines, one per sweep, never a carriage return.
"${run[@]}" >/dev/null 2>"$tmp/err"
lines=$(grep -c '^atoll: sweep [0-9]*: .* updates/s, residual .* bytes sent, .* elapsed$' "$tmp/err" || true)
[[ $lines == 6 ]] || { cat "$tmp/err" >&2; die "expected 6 plain sweep lines, got $lines"; }
if grep -q $'\r' "$tmp/err"; then die "a carriage return in piped progress"; fi
# --quiet: nothing on stderr; the summary still on stdout.
"${run[@]}" --quiet >"$tmp/out" 2>"$tmp/err"
[[ ! -s $tmp/err ]] || { cat "$tmp/err" >&2; die "--quiet wrote to stderr"; }
grep -q '^pagerank:' "$tmp/out" || die "--quiet lost the summary"

command -v tmux >/dev/null || { echo "progress: tmux missing: terminal part skipped"; exit 77; }
# A terminal: one status line rewritten in place, also for 2 ranks under atoll launch (which
# shows rank 0's status line in place, prefixed "[0] ").
on_terminal() {  # on_terminal PREFIX COMMAND...
  local prefix=$1 session="s$RANDOM"
  shift
  tmux -L "$server" -f /dev/null new-session -d -s "$session" -x 200 -y 40 \
    "$(printf '%q ' "$@") >/dev/null; echo EXIT=\$?; sleep 60"
  for _ in $(seq 1 600); do
    tmux -L "$server" capture-pane -p -t "$session" >"$tmp/screen"
    grep -q '^EXIT=' "$tmp/screen" && break
    sleep 0.1
  done
  grep -q '^EXIT=0' "$tmp/screen" || { cat "$tmp/screen" >&2; die "the run under tmux did not end well: $*"; }
  status=$(grep -c 'atoll: sweep' "$tmp/screen" || true)
  [[ $status == 1 ]] ||
    { cat "$tmp/screen" >&2; die "expected one status line on the terminal, got $status: $*"; }
  grep -q "^$prefix"'atoll: sweep 5 | .*updates/s | residual .* | .*B sent | .* s elapsed' "$tmp/screen" ||
    { cat "$tmp/screen" >&2; die "the status line does not show the last sweep's figures: $*"; }
}
on_terminal "" "${run[@]}"
on_terminal '\[0\] ' "${run[@]}" --ranks 2 --transport tcp
# The locking engine's phase can last the whole run: its status line is refreshed during it
# (sssp from the source alone: from local distances one rank has nothing left to run). Two
# ranks, so that the phase lasts seconds however fast the machine (one rank ran it in 0.1 s,
# less than one refresh).
"$atoll" generate grid --rows 300 --cols 300 --weights 1:100 --out "$tmp/grid.el" >/dev/null
session="live"
tmux -L "$server" -f /dev/null new-session -d -s "$session" -x 200 -y 40 \
  "$(printf '%q ' "$atoll" run sssp --graph "$tmp/grid.el" --source 0 --start source --engine locking \
    --scheduler fifo --consistency edge --threads 1 --ranks 2) >/dev/null; echo EXIT=\$?; sleep 60"
seen=0
for _ in $(seq 1 1200); do
  tmux -L "$server" capture-pane -p -t "$session" >"$tmp/screen"
  grep -q 'atoll: phase 0 (running) | .* updates/s on this rank | .*B sent | .* s elapsed' \
    "$tmp/screen" && seen=1
  grep -q '^EXIT=' "$tmp/screen" && break
  sleep 0.1
done
grep -q '^EXIT=0' "$tmp/screen" || { cat "$tmp/screen" >&2; die "the locking run under tmux failed"; }
((seen)) || { cat "$tmp/screen" >&2; die "no live status line during the locking engine's phase"; }
[[ $(grep -c 'atoll: phase' "$tmp/screen") == 1 ]] ||
  { cat "$tmp/screen" >&2; die "the live line was not rewritten in place"; }
echo "progress: ok"
