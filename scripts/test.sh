#!/usr/bin/env bash
# The whole test suite, real S3 server included. This is the command the README
# names and .ci/run calls. It needs only Go (and gcc for -race); it installs
# MinIO itself, pinned, into .cache/bin (git-ignored), starts it on 127.0.0.1
# for the S3 integration tests, and always stops it.
#
#   bash scripts/test.sh            # vet, race-enabled tests, benchmarks once, the quick start
#   SKIP_MINIO=1 bash scripts/test.sh   # without the real S3 server (its tests skip)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c   # a known-good build from the module proxy
bin=$root/.cache/bin
mkdir -p "$bin"

stamp() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }

if [[ "${SKIP_MINIO:-}" != 1 ]]; then
  if [[ ! -x "$bin/minio" || "$(cat "$bin/minio.version" 2>/dev/null)" != "$MINIO_VERSION" ]]; then
    stamp "installing MinIO $MINIO_VERSION (a few minutes the first time)"
    GOBIN=$bin GOFLAGS=-buildvcs=false go install "github.com/minio/minio@$MINIO_VERSION"
    echo "$MINIO_VERSION" > "$bin/minio.version"
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo 19000)
  data=$(mktemp -d)
  export MINIO_ROOT_USER=iamlens-test MINIO_ROOT_PASSWORD=iamlens-test-secret
  "$bin/minio" server --quiet --address "127.0.0.1:$port" --console-address "127.0.0.1:0" "$data" > "$data.log" 2>&1 &
  minio_pid=$!
  trap 'kill $minio_pid 2>/dev/null || true; wait $minio_pid 2>/dev/null || true; rm -rf "$data" "$data.log"' EXIT
  for _ in $(seq 1 100); do
    if curl -fs "http://127.0.0.1:$port/minio/health/ready" >/dev/null 2>&1; then break; fi
    if ! kill -0 $minio_pid 2>/dev/null; then cat "$data.log"; echo "minio did not start" >&2; exit 1; fi
    sleep 0.2
  done
  curl -fs "http://127.0.0.1:$port/minio/health/ready" >/dev/null || { cat "$data.log"; echo "minio not ready" >&2; exit 1; }
  export IAMLENS_MINIO_ENDPOINT=http://127.0.0.1:$port
  export IAMLENS_MINIO_ACCESS_KEY=$MINIO_ROOT_USER IAMLENS_MINIO_SECRET_KEY=$MINIO_ROOT_PASSWORD
  stamp "MinIO ready at $IAMLENS_MINIO_ENDPOINT"
fi

stamp "go vet"
go vet ./...

# The tests build without the binary's PGO profile (cmd/iamlens/default.pgo):
# it changes speed, not behaviour, and with it `go test` compiles every
# dependency of cmd/iamlens a second time (with -race, about 5 more minutes on
# 2 cores). The quick start below runs the binary as users build it.
stamp "go test -race"
set +e
go test -race -pgo=off -count=1 -timeout 30m ./... 2>&1 | tee /tmp/iamlens-test.$$.log
status=${PIPESTATUS[0]}
set -e

stamp "benchmarks, once each"
go test -pgo=off -run '^$' -bench . -benchtime 1x -timeout 20m ./... > /tmp/iamlens-bench.$$.log 2>&1 || { cat /tmp/iamlens-bench.$$.log; status=1; }
grep -E '^(Benchmark|ok|FAIL)' /tmp/iamlens-bench.$$.log || true

# The README's first command, on the binary `go run` builds (with its PGO
# profile): it must print the policy of the bundled sample's user.
stamp "quick start"
quick=$(mktemp -d)
if go run ./cmd/iamlens analyze --store "$quick/store" --logs testdata/sample --principal benjamin --format json > "$quick/out.json" &&
  grep -q '"Statement"' "$quick/out.json"; then
  echo "quick start: ok ($(wc -c < "$quick/out.json") bytes of policy)"
else
  cat "$quick/out.json"
  echo "quick start: FAILED" >&2
  status=1
fi
rm -rf "$quick"

passed=$(grep -c '^ok ' /tmp/iamlens-test.$$.log || true)
failed=$(grep -c '^FAIL' /tmp/iamlens-test.$$.log || true)
rm -f /tmp/iamlens-test.$$.log /tmp/iamlens-bench.$$.log
echo "packages: $passed passed, $failed failed"
exit "$status"
