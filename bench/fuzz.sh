#!/usr/bin/env bash
# Runs every Go fuzz target of the module (each `func FuzzX(f *testing.F)`
# in a _test.go file) for a while, one after the other. `go test` alone runs
# only their seed corpora; this is the longer, scheduled run
# (docs/testing.md, "Fuzzing"):
#
#   bash bench/fuzz.sh                        # every target, 60 s each
#   FUZZTIME=10m bash bench/fuzz.sh           # longer (any go test -fuzztime value)
#   bash bench/fuzz.sh FuzzSplit FuzzDecode   # only these targets
#
# A failing input is written by Go under the package's
# testdata/fuzz/<target>/ and from then on replayed by every `go test`:
# commit it with the fix. Exits 1 if any target failed.
set -euo pipefail
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-60s}

# package folder and target name of every fuzz target, sorted
targets=$(grep -rE --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*\(f \*testing\.F\)' . |
  grep -v '^./bench/out/' |
  sed -E 's#^(.*)/[^/]*_test\.go:func (Fuzz[A-Za-z0-9_]*)\(.*#\1 \2#' | sort)
if [[ $# -gt 0 ]]; then
  targets=$(grep -wE "$(IFS='|'; echo "$*")" <<<"$targets" || true)
fi
if [[ -z $targets ]]; then
  echo "fuzz: no targets found" >&2
  exit 2
fi

start=$SECONDS
failed=()
n=0
while read -r dir name; do
  n=$((n + 1))
  echo "== $name ($dir, $FUZZTIME)"
  if ! go test -pgo=off -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir"; then
    failed+=("$name")
  fi
done <<<"$targets"
echo "fuzz: $n targets, ${#failed[@]} failed (${failed[*]:-none}) in $((SECONDS - start)) s"
[[ ${#failed[@]} -eq 0 ]]
