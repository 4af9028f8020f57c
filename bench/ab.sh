#!/usr/bin/env bash
# A/B of ingest's CPU between git revisions on the same machine, alternating
# runs so that a shared machine's drift hits every revision alike:
#
#   bash bench/ab.sh 7ab61f4 HEAD             # 6 rounds on the 1 GiB corpus
#   ROUNDS=10 MB=256 bash bench/ab.sh HEAD~1 HEAD
#
# Each revision's bench/profile is built in a temporary worktree (with the
# revision's cmd/iamlens/default.pgo, when it has one) and runs one ingest of
# the corpus (bench/compare.sh generates it) into a fresh store.
# Reported per revision: the least and the median CPU time (user + sys) over the
# rounds, the wall time of the least-CPU run, and the least and the median wall
# time (for changes to waiting rather than work). CPU time moves less than wall
# time when other jobs share the cores, and the least of several runs moves least.
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-6}
MB=${MB:-1024}
corpus=$PWD/bench/out/corpus-${MB}m
if [[ ! -f $corpus/.done ]]; then
  echo "no corpus at $corpus: run MB=$MB bash bench/compare.sh first (it generates it)" >&2
  exit 1
fi
[[ $# -ge 2 ]] || { echo "usage: bash bench/ab.sh REV REV..." >&2; exit 2; }
tmp=$(mktemp -d)
trap 'for w in "$tmp"/wt-*; do git worktree remove --force "$w" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
bins=()
for rev in "$@"; do
  n=${#bins[@]}
  git worktree add -q --detach "$tmp/wt-$n" "$rev"
  # With the revision's PGO profile, as its `go build ./cmd/iamlens` would use.
  pgo=off
  if [[ -f $tmp/wt-$n/cmd/iamlens/default.pgo ]]; then
    pgo=$tmp/wt-$n/cmd/iamlens/default.pgo
  fi
  (cd "$tmp/wt-$n" && go build -pgo="$pgo" -o "$tmp/profile-$n" ./bench/profile)
  bins+=("$tmp/profile-$n")
done
for _ in $(seq "$ROUNDS"); do
  for n in "${!bins[@]}"; do
    /usr/bin/time -f "$n %e %U %S" "${bins[$n]}" -src "$corpus" -cpu "$tmp/cpu.prof" 2>&1 >/dev/null | tail -1
  done
done > "$tmp/runs"
echo "ingest of $corpus, $ROUNDS rounds ($(nproc) cores, $(date -u '+%F %H:%M') UTC)"
revs=("$@")
for n in "${!bins[@]}"; do
  walls=$(grep "^$n " "$tmp/runs" | awk '{print $2}' | sort -n | awk '{w[NR] = $1} END {printf "wall least %.2f s, median %.2f s", w[1], w[int((NR + 1) / 2)]}')
  grep "^$n " "$tmp/runs" | awk '{print $3 + $4, $2}' | sort -n |
    awk -v rev="${revs[$n]}" -v walls="$walls" '{c[NR] = $1; w[NR] = $2} END {printf "%-14s cpu least %.2f s, median %.2f s; wall of the least-cpu run %.2f s; %s\n", rev, c[1], c[int((NR + 1) / 2)], w[1], walls}'
done
