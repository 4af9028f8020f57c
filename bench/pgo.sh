#!/usr/bin/env bash
# Regenerates cmd/iamlens/default.pgo, the CPU profile that `go build` and
# `go run` read for profile-guided optimisation of the iamlens binary (Go's
# -pgo=auto: a default.pgo beside the main package). It merges three ingests
# of the 1 GiB bench corpus with 250 analyze runs on the store they write
# (about half as many seconds of samples as the ingests), so both hot paths
# are in it. Needs the corpus (bash bench/compare.sh generates it); takes
# about a minute:
#
#   bash bench/pgo.sh && git diff --stat cmd/iamlens/default.pgo
#
# Regenerate it after changing ingest's or analyze's hot code: a stale
# profile only optimises less (Go matches its samples to functions by name
# and line), it never makes a wrong binary.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-1024}
corpus=$PWD/bench/out/corpus-${MB}m
if [[ ! -f $corpus/.done ]]; then
  echo "no corpus at $corpus: run MB=$MB bash bench/compare.sh first (it generates it)" >&2
  exit 1
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The tools are built without a profile, so the samples name the code as
# written, not as an earlier profile inlined it.
go build -pgo=off -o "$tmp/profile" ./bench/profile
go build -pgo=off -o "$tmp/profanalyze" ./bench/profanalyze
go build -pgo=off -o "$tmp/iamlens" ./cmd/iamlens
find "$corpus" -type f -exec cat {} + >/dev/null # into the page cache
for i in 1 2 3; do
  "$tmp/profile" -src "$corpus" -cpu "$tmp/ingest-$i.prof"
done
"$tmp/iamlens" ingest --store "$tmp/store" --no-progress --format json "$corpus" >/dev/null
"$tmp/profanalyze" -store "$tmp/store" -principal arn:aws:iam::111122223333:role/app/role-0003 -n 250 -cpu "$tmp/analyze.prof" >/dev/null
go tool pprof -proto "$tmp"/ingest-*.prof "$tmp/analyze.prof" >cmd/iamlens/default.pgo
echo "wrote cmd/iamlens/default.pgo ($(wc -c <cmd/iamlens/default.pgo) bytes)"
