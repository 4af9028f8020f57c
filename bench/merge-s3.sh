#!/usr/bin/env bash
# The monthly rollup's merge on an object store: the usage rollup of the
# 1 GiB corpus (bench/compare.sh generates it) ingested into MinIO, then
# `iamlens compact --min-files 100000 --grace 0s` (the monthly rollup only)
# through bench/lagproxy, which holds each request for DELAY as a network
# would. Prints, per build, the merge's wall time, peak RSS and GET
# requests.
#
#   bash bench/merge-s3.sh                                   # this tree's build
#   BASELINE=/abs/path/to/iamlens DELAY=50ms bash bench/merge-s3.sh
#
# MinIO: the one IAMLENS_MINIO_ENDPOINT names, else one started here as
# scripts/test.sh does (.cache/bin/minio), on 127.0.0.1, stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-1024}
DELAY=${DELAY:-20ms}
corpus=$PWD/bench/out/corpus-${MB}m
[[ -f $corpus/.done ]] || { echo "no corpus at $corpus: run MB=$MB bash bench/compare.sh first (it generates it)" >&2; exit 1; }
TIME=/usr/bin/time
[[ -x $TIME ]] || { echo "GNU time is needed for peak RSS: apt-get install -y time" >&2; exit 1; }
out=$PWD/bench/out/merge-s3
rm -rf "$out" && mkdir -p "$out"
source bench/minio.sh
pids=()
trap 'for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; minio_down' EXIT
minio_up

go build -o "$out/iamlens" ./cmd/iamlens
go build -o "$out/genorg" ./bench/genorg
go build -o "$out/lagproxy" ./bench/lagproxy
"$out/lagproxy" -to "${ep#http://}" -delay "$DELAY" 2> "$out/lagproxy.log" &
pids+=($!)
for _ in $(seq 1 50); do [[ -s $out/lagproxy.log ]] && break; sleep 0.1; done
slow=http://$(head -1 "$out/lagproxy.log")

echo "# monthly rollup merge on MinIO behind a ${DELAY} delay a request, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-40s %10s %10s %8s  %s\n' build wall RSS GETs "monthly rollup"
builds=()
[[ -n ${BASELINE:-} ]] && builds+=("$BASELINE")
builds+=("$out/iamlens")
n=0
for b in "${builds[@]}"; do
  n=$((n + 1))
  bucket=merge-$(date +%s)-$n
  "$out/genorg" -bucket "$bucket" -accounts 0 -regions 1 -days 0 2>/dev/null  # creates the bucket
  "$out/iamlens" ingest "$corpus" --store "s3://$bucket/store" --store-endpoint-url "$ep" --compact-files 0 --no-progress > /dev/null
  "$TIME" -f '%e %M' -o "$out/time-$n" "$b" compact --store "s3://$bucket/store" --store-endpoint-url "$slow" \
    --min-files 100000 --grace 0s --format json > "$out/compact-$n.json"
  read -r wall rss < "$out/time-$n"
  python3 - "$out/compact-$n.json" "$b" "$wall" "$rss" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
m, r = s.get("monthly_rollup", {}), s.get("store_requests", {})
print("%-40s %9ss %8.0f MB %8s  %s months, %s -> %s rows" % (sys.argv[2][-40:], sys.argv[3], int(sys.argv[4]) / 1024,
      r.get("get", "?"), m.get("months"), m.get("rows_read"), m.get("rows_written")))
PY
done
