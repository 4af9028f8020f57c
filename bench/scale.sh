#!/usr/bin/env bash
# Scale-out measurements (issue 29): a simulated organization trail in MinIO,
# ingested by 1, 2 and 4 shards run as separate processes, into a store in a
# folder and into a store on S3 (the same MinIO); an incremental run after one
# new day; readers (principals, analyze --principal) before and after
# compaction. Prints a table of wall time, records/s and requests; each run's
# JSON summary stays under bench/out/scale/.
#
#   bash bench/scale.sh                      # 200 accounts × 4 regions × 7 days × 4 objects (22,400 objects)
#   ACCOUNTS=50 DAYS=3 bash bench/scale.sh   # quicker
#
# The bucket is made by bench/genorg from the real records of testdata/sample
# (PER_DAY objects of RECORDS records each per account, region and day). MinIO:
# the one IAMLENS_MINIO_ENDPOINT names, else one started here as scripts/test.sh
# does (.cache/bin/minio), on 127.0.0.1, stopped at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ACCOUNTS=${ACCOUNTS:-200} REGIONS=${REGIONS:-4} DAYS=${DAYS:-7} PER_DAY=${PER_DAY:-4} RECORDS=${RECORDS:-25}
SHARDS=${SHARDS:-"1 2 4"}
out=$PWD/bench/out/scale
rm -rf "$out" && mkdir -p "$out"

source bench/minio.sh
trap minio_down EXIT
minio_up

go build -o "$out/iamlens" ./cmd/iamlens
go build -o "$out/genorg" ./bench/genorg
bucket=org-trail-$(date +%s)
dataset=dataset-$(date +%s)
# The days end yesterday and the new day is today, as for a trail ingested
# daily: an incremental run names the day folders since its cursor.
first=$(date -u -d "today - $DAYS days" +%F)
"$out/genorg" -bucket "$bucket" -accounts "$ACCOUNTS" -regions "$REGIONS" -days "$DAYS" -start "$first" -per-day "$PER_DAY" -records "$RECORDS"
"$out/genorg" -bucket "$dataset" -accounts 0 -regions 1 -days 0 2>/dev/null  # creates the dataset's bucket
objects=$((ACCOUNTS * REGIONS * DAYS * PER_DAY))
{
  echo "# iamlens scale-out bench, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "# bucket: $ACCOUNTS accounts x $REGIONS regions x $DAYS days x $PER_DAY objects = $objects objects of $RECORDS records"
} | tee "$out/results.txt"

# shards NAME STORE N: N shards of the bucket, separate processes at once.
shards() {
  local name=$1 st=$2 n=$3 t0 t1
  t0=$(date +%s.%N)
  for ((i = 0; i < n; i++)); do
    "$out/iamlens" ingest "s3://$bucket" --endpoint-url "$ep" --store "$st" --store-endpoint-url "$ep" \
      --shard "$i/$n" --format json --no-progress > "$out/$name-$i.json" &
  done
  wait
  t1=$(date +%s.%N)
  python3 - "$name" "$n" "$t0" "$t1" "$out" <<'PY'
import json, sys, glob
name, n, t0, t1, out = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), sys.argv[5]
runs = [json.load(open(f"{out}/{name}-{i}.json")) for i in range(n)]
s = lambda k: sum(r.get(k, 0) for r in runs)
src = lambda k: sum((r.get("source_requests") or {}).get(k, 0) for r in runs)
sto = lambda k: sum((r.get("store_requests") or {}).get(k, 0) for r in runs)
wall = t1 - t0
print(f"{name:<22} shards={n} wall={wall:6.1f}s records={s('records'):>7} rec/s={s('records')/wall:>8.0f} "
      f"objects_read={s('objects_read'):>6} listed={s('objects_listed'):>6} src_GET={src('get'):>6} src_LIST={src('list'):>5} "
      f"store_LIST={sto('list')} store_GET={sto('get')} store_PUT={sto('put')} files={s('files_written')} dups={s('duplicates_dropped')}")
PY
}

# reader NAME STORE ARGS...: one reader's wall time and store requests.
reader() {
  local name=$1 st=$2 t0 t1 req
  shift 2
  t0=$(date +%s.%N)
  "$out/iamlens" "$@" --store "$st" --store-endpoint-url "$ep" --store-stats > "$out/$name.out" 2> "$out/$name.err" || true
  t1=$(date +%s.%N)
  req=$(grep -o 'store requests: .*' "$out/$name.err" || echo "(a folder)")
  printf '%-34s wall=%6.2fs %s\n' "$name" "$(echo "$t1 - $t0" | bc)" "$req"
}

for n in $SHARDS; do
  shards "folder-$n" "$out/store-$n" "$n" | tee -a "$out/results.txt"
  shards "s3-$n" "s3://$dataset/store-$n" "$n" | tee -a "$out/results.txt"
done
last=${SHARDS##* }

# One more day: the shards' incremental runs list and read only it.
next=$(date -u +%F)
"$out/genorg" -bucket "$bucket" -accounts "$ACCOUNTS" -regions "$REGIONS" -days 1 -start "$next" -per-day "$PER_DAY" -records "$RECORDS"
echo "# one more day ($next: $((ACCOUNTS * REGIONS * PER_DAY)) objects), incremental runs" | tee -a "$out/results.txt"
shards "folder-$last-incremental" "$out/store-$last" "$last" | tee -a "$out/results.txt"
shards "s3-$last-incremental" "s3://$dataset/store-$last" "$last" | tee -a "$out/results.txt"

# Readers before and after compaction, on the last shard count's stores.
arn="arn:aws:iam::100000000000:user/benjamin"
echo "# readers before and after compaction (the $last-shard stores)" | tee -a "$out/results.txt"
for where in folder s3; do
  st=$out/store-$last
  [[ $where == s3 ]] && st=s3://$dataset/store-$last
  reader "$where principals (before)" "$st" principals --format json | tee -a "$out/results.txt"
  reader "$where analyze --principal (before)" "$st" analyze --principal "$arn" --format json | tee -a "$out/results.txt"
  t0=$(date +%s.%N)
  "$out/iamlens" compact --store "$st" --store-endpoint-url "$ep" --format json > "$out/compact-$where.json"
  t1=$(date +%s.%N)
  python3 -c "import json,sys; c=json.load(open(sys.argv[1])); r=c.get('store_requests') or {}; print(f\"{sys.argv[2]+' compact':<34} wall={float(sys.argv[3]):6.2f}s partitions={c['partitions_compacted']} files {c['events_files_before']} -> {c['events_files_after']} bytes {c['bytes_before']} -> {c['bytes_after']} requests LIST={r.get('list',0)} GET={r.get('get',0)} PUT={r.get('put',0)} DELETE={r.get('delete',0)}\")" \
    "$out/compact-$where.json" "$where" "$(echo "$t1 - $t0" | bc)" | tee -a "$out/results.txt"
  reader "$where principals (after)" "$st" principals --format json | tee -a "$out/results.txt"
  reader "$where analyze --principal (after)" "$st" analyze --principal "$arn" --format json | tee -a "$out/results.txt"
  for r in principals "analyze --principal"; do
    if cmp -s "$out/$where $r (before).out" "$out/$where $r (after).out"; then same=identical; else same=DIFFERENT; fi
    echo "$where $r: output before and after compaction $same" | tee -a "$out/results.txt"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)" | tee -a "$out/results.txt"
