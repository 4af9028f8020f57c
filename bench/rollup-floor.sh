#!/usr/bin/env bash
# The least the usage rollup can cost at ingest at the grain issue 27 asks for
# (one row per principal, call and outcome of a batch's events of one day):
# whole `iamlens ingest` processes of the same corpus into fresh stores, in
# turns, with three builds:
#
#   before   the build before the rollup (BASE, 2fc9798 unless given)
#   rollup   HEAD: events, and the rollup's four facets beside them
#   calls    HEAD with bench/rollup-floor-calls.patch: the rollup's call rows,
#            and the principal rows summed from them, nothing else
#
#   bash bench/rollup-floor.sh                 # 4 rounds on the 1 GiB corpus
#   ROUNDS=6 MB=256 bash bench/rollup-floor.sh 2fc9798
#   ROUNDS=2 CORPUS=bench/out/corpus-12288m-real bash bench/rollup-floor.sh
#
# Reported per build: the least and the median CPU time (user + sys) and the
# least wall time over the rounds, and the bytes of the last run's events and
# rollup files. The corpus is bench/compare.sh's (generated there).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-4}
MB=${MB:-1024}
BASE=${1:-2fc9798}
corpus=$(realpath "${CORPUS:-bench/out/corpus-${MB}m}")
if [[ -z ${CORPUS:-} && ! -f $corpus/.done ]]; then
  echo "no corpus at $corpus: run MB=$MB bash bench/compare.sh first (it generates it)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'for w in "$tmp"/wt-*; do git worktree remove --force "$w" 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
build() { # name rev [patch]
  git worktree add -q --detach "$tmp/wt-$1" "$2"
  if [[ -n ${3:-} ]]; then
    git -C "$tmp/wt-$1" apply "$PWD/$3"
  fi
  local pgo=off
  if [[ -f $tmp/wt-$1/cmd/iamlens/default.pgo ]]; then
    pgo=$tmp/wt-$1/cmd/iamlens/default.pgo
  fi
  (cd "$tmp/wt-$1" && go build -pgo="$pgo" -o "$tmp/iamlens-$1" ./cmd/iamlens)
}
build before "$BASE"
build rollup HEAD
build calls HEAD bench/rollup-floor-calls.patch
names=(before rollup calls)
for _ in $(seq "$ROUNDS"); do
  for n in "${names[@]}"; do
    rm -rf "$tmp/store-$n"
    /usr/bin/time -f "$n %e %U %S" "$tmp/iamlens-$n" ingest "$corpus" --store "$tmp/store-$n" 2>&1 >/dev/null | tail -1
  done
done > "$tmp/runs"
echo "ingest of $corpus, $ROUNDS rounds ($(nproc) cores, $(date -u '+%F %H:%M') UTC)"
bytes() { if [[ -d $1 ]]; then find "$1" -type f -name '*.parquet' -printf '%s\n' | awk '{s += $1} END {print s + 0}'; else echo 0; fi; }
for n in "${names[@]}"; do
  ev=$(bytes "$tmp/store-$n/events")
  ru=$(bytes "$tmp/store-$n/rollup")
  grep "^$n " "$tmp/runs" | awk '{print $3 + $4, $2}' | sort -n |
    awk -v n="$n" -v ev="$ev" -v ru="$ru" '{c[NR] = $1; w[NR] = $2; if (NR == 1 || $2 < lw) lw = $2}
      END {printf "%-7s cpu least %.2f s, median %.2f s; wall least %.2f s; events %.1f MB, rollup %.1f MB (%.1f%%)\n",
        n, c[1], c[int((NR + 1) / 2)], lw, ev / 1e6, ru / 1e6, 100 * ru / ev}'
done
