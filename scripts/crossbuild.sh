#!/usr/bin/env bash
# Compiles iamlens for every supported platform (docs/install.md): every
# package with `go build ./...` (nothing is written), and every package's
# tests with `go vet ./...`, which type-checks them for that platform
# (build tags, int sizes, syscalls) without running them.
#
#   bash scripts/crossbuild.sh                     # all platforms
#   PLATFORMS="windows/amd64 linux/386" bash scripts/crossbuild.sh
#
# Without the PGO profile: it changes code layout, not whether it builds,
# and with it every dependency would compile a second time per platform.
set -euo pipefail
cd "$(dirname "$0")/.."
# linux/amd64 is left out by default: scripts/test.sh builds, vets and tests it.
PLATFORMS=${PLATFORMS:-"linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 linux/386"}
start=$SECONDS
failed=()
for p in $PLATFORMS; do
  t=$SECONDS
  if GOOS=${p%/*} GOARCH=${p#*/} go build -pgo=off ./... &&
    GOOS=${p%/*} GOARCH=${p#*/} go vet ./...; then
    echo "crossbuild $p: ok ($((SECONDS - t)) s)"
  else
    echo "crossbuild $p: FAILED" >&2
    failed+=("$p")
  fi
done
echo "crossbuild: $(( $(wc -w <<<"$PLATFORMS") - ${#failed[@]} )) platforms built, ${#failed[@]} failed ($((SECONDS - start)) s)"
[[ ${#failed[@]} -eq 0 ]]
