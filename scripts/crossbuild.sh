#!/usr/bin/env bash
# Compiles iamlens for every supported platform (docs/install.md): every
# package with `go build ./...` (nothing is written), and on the platforms
# whose code differs most from linux/amd64's, where the suite runs, every
# package's tests too with `go vet ./...`, which type-checks them for that
# platform (build tags, int sizes, syscalls) without running them:
# windows/amd64 (no unix files, no folder fsync) and linux/386 (32-bit
# ints). Vetting the tests costs 2.5 times the build (cold, per platform:
# build 131 s, vet 323 s, as the tests pull in chromedp, arrow and grpc),
# and the other platforms' tests are those of linux/amd64 or of these.
#
#   bash scripts/crossbuild.sh                     # all platforms
#   PLATFORMS="windows/amd64 linux/386" bash scripts/crossbuild.sh
#   VET_PLATFORMS="$PLATFORMS" bash scripts/crossbuild.sh   # tests vetted on each
#
# Without the PGO profile: it changes code layout, not whether it builds,
# and with it every dependency would compile a second time per platform.
set -euo pipefail
cd "$(dirname "$0")/.."
# linux/amd64 is left out by default: scripts/test.sh builds, vets and tests it.
PLATFORMS=${PLATFORMS:-"linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 linux/386"}
VET_PLATFORMS=${VET_PLATFORMS:-"windows/amd64 linux/386"}
start=$SECONDS
failed=()
for p in $PLATFORMS; do
  t=$SECONDS
  vet=false what=built
  [[ " $VET_PLATFORMS " == *" $p "* ]] && vet=true what="built, tests vetted"
  if GOOS=${p%/*} GOARCH=${p#*/} go build -pgo=off ./... &&
    { ! $vet || GOOS=${p%/*} GOARCH=${p#*/} go vet ./...; }; then
    echo "crossbuild $p: ok, $what ($((SECONDS - t)) s)"
  else
    echo "crossbuild $p: FAILED" >&2
    failed+=("$p")
  fi
done
echo "crossbuild: $(( $(wc -w <<<"$PLATFORMS") - ${#failed[@]} )) platforms built, ${#failed[@]} failed ($((SECONDS - start)) s)"
[[ ${#failed[@]} -eq 0 ]]
