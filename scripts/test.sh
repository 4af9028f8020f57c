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

# DuckDB (its Node API, pinned: the one DuckDB client installable here) runs
# the Athena engine's SQL over the Parquet files ingest writes
# (analyzer/athena); installed once into .cache/duckdb (git-ignored). Without
# node the tests that need it skip and say so.
DUCKDB_VERSION=1.5.6-r.1
if command -v npm >/dev/null 2>&1; then
  if [[ "$(cat "$root/.cache/duckdb/version" 2>/dev/null)" != "$DUCKDB_VERSION" ]]; then
    stamp "installing @duckdb/node-api $DUCKDB_VERSION into .cache/duckdb"
    mkdir -p "$root/.cache/duckdb"
    (cd "$root/.cache/duckdb" && { [[ -f package.json ]] || npm init -y >/dev/null; } &&
      npm install --no-audit --no-fund "@duckdb/node-api@$DUCKDB_VERSION" >/dev/null) &&
      echo "$DUCKDB_VERSION" > "$root/.cache/duckdb/version"
  fi
  export IAMLENS_DUCKDB_DIR=$root/.cache/duckdb
else
  stamp "npm not found: the Athena engine's SQL is not run on DuckDB (those tests skip)"
fi

stamp "go vet"
go vet ./...

# The summary tool reads `go test -json`: it shows each package's line and
# every failing test's output as they come, and counts tests at the end.
go build -o "$bin/testsummary" ./scripts/testsummary
summary=$(mktemp)

# The tests build without the binary's PGO profile (cmd/iamlens/default.pgo):
# it changes speed, not behaviour, and with it `go test` compiles every
# dependency of cmd/iamlens a second time (with -race, about 5 more minutes on
# 2 cores). The quick start below runs the binary as users build it.
stamp "go test -race (the first run compiles everything with the race detector: several minutes)"
set +e
go test -race -pgo=off -count=1 -timeout 30m -json ./... 2>&1 | "$bin/testsummary" -counts "$summary"
status=${PIPESTATUS[1]}
set -e

stamp "benchmarks, once each"
if ! go test -pgo=off -run '^$' -bench . -benchtime 1x -timeout 20m ./... > "$summary.bench" 2>&1; then
  cat "$summary.bench"
  status=1
fi
grep -E '^(Benchmark|ok|FAIL)' "$summary.bench" || true
benchmarks=$(grep -c '^Benchmark' "$summary.bench" || true)

# The README's first command, on the binary `go run` builds (with its PGO
# profile): it must print the policy of the bundled sample's user.
stamp "quick start (go run builds iamlens with its profile: a minute or two the first time)"
quick=$(mktemp -d)
if go run ./cmd/iamlens analyze --store "$quick/store" --logs testdata/sample --principal benjamin --format json > "$quick/out.json" &&
  grep -q '"Statement"' "$quick/out.json"; then
  quickstart="ok ($(wc -c < "$quick/out.json") bytes of report)"
else
  cat "$quick/out.json"
  quickstart=FAILED
  status=1
fi
rm -rf "$quick"

cat "$summary"
echo "benchmarks: $benchmarks ran once each"
echo "quick start: $quickstart"
[[ -d ../shared/data ]] || echo "../shared/data: absent, as in a fresh clone (the optional extra checks skipped)"
rm -f "$summary" "$summary.bench"
if [[ $status == 0 ]]; then stamp "all passed"; else stamp "FAILED"; fi
exit "$status"
