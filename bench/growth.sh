#!/usr/bin/env bash
# How the rollup's readers grow with the dataset, without generating new
# corpora: the store of `bench/compare.sh rollup` (10.3 M events, 48 days,
# 3 accounts of 600 principals) read in halves. Each reader opens only the
# partitions of its window or accounts, so
#
#   D24 / D48      --from the 25th of 48 days / the whole window: twice the days
#   P600 / P1200   --account A / --account A,B (48 days): twice the principals
#
# and DuckDB (npm @duckdb/node-api, as bench/compare.sh installs it) runs the
# same GROUP BYs over the same folders. Whole processes in turns, ROUNDS
# rounds; each line: label, wall seconds, user and sys CPU seconds.
#
#   bash bench/growth.sh                       # bench/out/store-12288m-real
#   ROUNDS=5 bash bench/growth.sh STORE FROM A B BUSY
set -euo pipefail
cd "$(dirname "$0")/.."
out=$PWD/bench/out
S=$(cd "${1:-$out/store-12288m-real}" && pwd)
from=${2:-2026-10-25} a=${3:-444455556666} b=${4:-777788889999}
busy=${5:-arn:aws:iam::111122223333:role/ci/ci-deploy}
ROUNDS=${ROUNDS:-3}
[[ -d $out/duckdb/node_modules/@duckdb/node-api ]] || { echo "run bash bench/compare.sh rollup first (it installs DuckDB)" >&2; exit 1; }
go build -o "$out/iamlens" ./cmd/iamlens
I=$out/iamlens E=$S/events
cat > "$out/duckdb/growth.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
// growth.mjs WHAT GLOBS_JSON [ARN]: the GROUP BYs of rollup.mjs over a list of globs
const [what, globs, arn] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
const from = `read_parquet([${JSON.parse(globs).map((g) => `'${g}'`).join(',')}], hive_partitioning=true)`;
const sql = {
  principals: `SELECT principal_arn, principal_kind, count(*) AS events, count(error_code) AS errors,
    min(event_time) AS first, max(event_time) AS last, list(DISTINCT recipient_account ORDER BY recipient_account) AS accounts
    FROM ${from} GROUP BY ALL ORDER BY ALL`,
  principal: `SELECT event_source, event_name, error_code IS NULL AS ok, count(*) AS n, min(event_time) AS first,
    max(event_time) AS last FROM ${from} WHERE principal_arn = '${arn}' GROUP BY ALL ORDER BY ALL`,
  all: `SELECT principal_arn, event_source, event_name, error_code IS NULL AS ok, count(*) AS n, min(event_time) AS first,
    max(event_time) AS last FROM ${from} GROUP BY ALL ORDER BY ALL`,
}[what];
const r = await conn.runAndReadAll(sql);
console.log(r.getRows().length);
JS
N="node $out/duckdb/growth.mjs"
# the date folders from $from on
late=$(for d in "$E"/*/date=*; do day=${d##*date=}; [[ $day < $from ]] || echo "\"$d/*.parquet\""; done | sort -u | paste -sd,)
D24="[$late]" D48="[\"$E/*/*/*.parquet\"]"
P600="[\"$E/account=$a/*/*.parquet\"]" P1200="[\"$E/account=$a/*/*.parquet\",\"$E/account=$b/*/*.parquet\"]"
t=$(mktemp)
run() { # label command...
  /usr/bin/time -o "$t" -f '%e %U %S' "${@:2}" >/dev/null 2>/dev/null
  echo "$1 $(cat "$t")"
}
echo "growth of $S ($(nproc) cores, $(date -u '+%F %H:%M') UTC); load $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$ROUNDS"); do
  run "D24 principals" "$I" principals --store "$S" --from "$from" --format json
  run "D24 duck-principals" $N principals "$D24"
  run "D48 principals" "$I" principals --store "$S" --format json
  run "D48 duck-principals" $N principals "$D48"
  run "D24 busy" "$I" analyze --store "$S" --from "$from" --principal "$busy" --format json
  run "D24 duck-busy" $N principal "$D24" "$busy"
  run "D48 busy" "$I" analyze --store "$S" --principal "$busy" --format json
  run "D48 duck-busy" $N principal "$D48" "$busy"
  run "P600 principals" "$I" principals --store "$S" --account "$a" --format json
  run "P600 duck-principals" $N principals "$P600"
  run "P1200 principals" "$I" principals --store "$S" --account "$a,$b" --format json
  run "P1200 duck-principals" $N principals "$P1200"
  run "D24 all" "$I" analyze --store "$S" --from "$from" --all --format json
  run "D24 duck-all" $N all "$D24"
  run "D48 all" "$I" analyze --store "$S" --all --format json
  run "D48 duck-all" $N all "$D48"
  run "P600 all" "$I" analyze --store "$S" --account "$a" --all --format json
  run "P600 duck-all" $N all "$P600"
  run "P1200 all" "$I" analyze --store "$S" --account "$a,$b" --all --format json
  run "P1200 duck-all" $N all "$P1200"
done
rm -f "$t"
echo "end $(date -u '+%F %H:%M') UTC; load $(cut -d' ' -f1-3 /proc/loadavg)"
