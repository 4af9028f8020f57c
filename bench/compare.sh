#!/usr/bin/env bash
# Side-by-side ingest benchmark on a synthetic CloudTrail corpus in the real
# key layout (built from the real invictus-ir records as templates):
#
#   floor    list + read + gunzip every file on all cores, nothing else, with iamlens's own
#            whole-file gunzip (the fastest in Go we know of; ingest uses it), and again with
#            klauspost/compress's streaming reader (the fastest general-purpose one)
#   iamlens  `iamlens ingest` of the same files into a fresh store
#   duckdb   one COPY (SELECT … FROM read_json(…, columns={Records: <struct>})) TO parquet,
#            the schema given up front (npm @duckdb/node-api, installed here into bench/out)
#
# and iamlens's peak RSS again on a corpus twice the size. Usage:
#
#   bash bench/compare.sh              # 1 GiB corpus (MB=1024), ~5 minutes on 2 cores
#   MB=256 bash bench/compare.sh       # quicker
#   SKIP_DUCKDB=1 bash bench/compare.sh
#   RUNS=1 bash bench/compare.sh       # one round instead of three
#
# The contenders take turns for RUNS rounds (default 3); each one's fastest run
# is reported, with its own peak RSS, and the ratios of each round besides:
# shared 2-core machines vary by a third from run to run, and turns keep a
# contender's fast spell from being compared with another's slow one.
#
# Needs Go, Node/npm and GNU time (apt-get install time). Corpora are cached
# under bench/out/ (git-ignored).
#   bash bench/compare.sh diff                # `iamlens diff --all` beside `iamlens analyze --all`,
#                                             # whole processes in turns, on the 10 M-event dataset
#                                             # (store-12288m-real when the rollup benchmark built it,
#                                             # else store-12288m as below) and a GAAD of 1,000 of its
#                                             # principals (bench/gengaad, one file per account)
#   bash bench/compare.sh diff STORE [GAADDIR] # the same on a store of yours
#   bash bench/compare.sh analyze             # `iamlens analyze --principal` vs the same
#                                             # per-principal aggregation in DuckDB, whole processes,
#                                             # on 10.3 M events (a 12 GiB corpus, generated and
#                                             # ingested once into bench/out), then on 20.6 M
#                                             # (24 GiB) unless SKIP_DOUBLE=1; tens of minutes once
#   bash bench/compare.sh analyze STORE ARN   # the same on a store of yours
#   bash bench/compare.sh rollup              # the usage rollup's readers against DuckDB, whole
#                                             # processes in turns: principals, analyze --principal
#                                             # for a busy and a quiet principal, analyze --all; on
#                                             # 10.3 M events of a corpus that repeats itself
#                                             # (gencorpus -repertoire 256 -ips 32 -busy 0.07),
#                                             # generated and ingested once into bench/out; then,
#                                             # unless SKIP_DOUBLE=1, on half the days and on half the
#                                             # principals (5.1 M events each: the 10.3 M dataset is
#                                             # each of them doubled). BASELINE=path/to/iamlens adds an
#                                             # older binary (one without the rollup reads the events)
#   bash bench/compare.sh rollup STORE BUSY QUIET   # the same on a store of yours (after
#                                             # `iamlens compact --store STORE`: with its monthly rollup)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${MB:-1024}
RUNS=${RUNS:-3}
TIME=/usr/bin/time
if [[ ! -x $TIME ]]; then
  echo "GNU time is needed for peak RSS: apt-get install -y time" >&2
  exit 1
fi

out=$PWD/bench/out
mkdir -p "$out"

corpus() { # corpus MB → path
  local mb=$1 dir=$out/corpus-${1}m
  if [[ ! -f $dir/.done ]]; then
    rm -rf "$dir"
    go run ./bench/gencorpus -out "$dir" -mb "$mb" -days $(( mb / 256 > 0 ? mb / 256 : 1 )) >&2
    touch "$dir/.done"
  fi
  echo "$dir"
}

install_duckdb() { # the pinned @duckdb/node-api, once, into bench/out/duckdb
  if [[ ! -d $out/duckdb/node_modules/@duckdb/node-api ]]; then
    mkdir -p "$out/duckdb"
    (cd "$out/duckdb" && npm init -y >/dev/null && npm install --no-audit --no-fund @duckdb/node-api@1.5.6-r.1 >/dev/null)
  fi
}

if [[ "${1:-}" == rollup ]]; then
  go build -o "$out/iamlens" ./cmd/iamlens
  RUNS=${RUNS:-5}
  if [[ $# -lt 4 ]]; then
    # name:gencorpus flags. 12288 MiB of JSON over 48 days is 10.3 M events.
    sets=("12288m-real:-mb 12288 -days 48")
    [[ "${SKIP_DOUBLE:-}" == 1 ]] || sets+=("6144m-real-days:-mb 6144 -days 24" "6144m-real-principals:-mb 6144 -days 48 -principals 300")
    for set in "${sets[@]}"; do
      name=${set%%:*} flags=${set#*:}
      store=$out/store-$name
      if [[ ! -f $store/.done ]]; then
        c=$out/corpus-$name
        if [[ ! -f $c/.done ]]; then
          rm -rf "$c"
          # shellcheck disable=SC2086
          go run ./bench/gencorpus -out "$c" $flags -repertoire 256 -ips 32 -busy 0.07 >&2
          touch "$c/.done"
        fi
        rm -rf "$store"
        "$out/iamlens" ingest --store "$store" --no-progress --format json "$c" >/dev/null
        touch "$store/.done"
      fi
      bash "$0" rollup "$store" arn:aws:iam::111122223333:role/ci/ci-deploy arn:aws:iam::111122223333:role/app/role-0003
    done
    exit 0
  fi
  store=$(cd "$2" && pwd) busy=$3 quiet=$4
  install_duckdb
  cat > "$out/duckdb/rollup.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const [what, glob, arn] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
const from = `read_parquet('${glob}', hive_partitioning=true)`;
const sql = {
  // what iamlens principals prints: per principal, events, errors, first and last seen, accounts
  principals: `SELECT principal_arn, principal_kind, count(*) AS events, count(error_code) AS errors,
    min(event_time) AS first, max(event_time) AS last, list(DISTINCT recipient_account ORDER BY recipient_account) AS accounts
    FROM ${from} GROUP BY ALL ORDER BY ALL`,
  // the per-principal aggregation of bench/compare.sh analyze
  principal: `SELECT event_source, event_name, error_code IS NULL AS ok, count(*) AS n, min(event_time) AS first,
    max(event_time) AS last FROM ${from} WHERE principal_arn = '${arn}' GROUP BY ALL ORDER BY ALL`,
  // the same for every principal
  all: `SELECT principal_arn, event_source, event_name, error_code IS NULL AS ok, count(*) AS n, min(event_time) AS first,
    max(event_time) AS last FROM ${from} GROUP BY ALL ORDER BY ALL`,
  // the rollup read back: each facet's calls add up to the events
  check: `SELECT facet, count(*) AS rows, sum(calls) AS calls FROM ${from} GROUP BY facet ORDER BY facet`,
}[what];
const r = await conn.runAndReadAll(sql);
if (what === 'check') { for (const row of r.getRows()) console.log(row.map(String).join('\t')); } else { console.log(r.getRows().length); }
JS
  events=$("$out/iamlens" principals --store "$store" --format json | grep -o '"events": [0-9]*' | awk '{s+=$2} END {print s}')
  glob="$store/events/*/*/*.parquet"
  echo "rollup read back by DuckDB (facet, rows, calls; $events events):"
  (cd "$out/duckdb" && node rollup.mjs check "$store/rollup/*/*/*.parquet") | sed 's/^/  /'
  if compgen -G "$store/rollup_month/*/*/*.parquet" >/dev/null; then
    # iamlens compact's monthly rollup: the same calls in fewer rows
    echo "monthly rollup read back by DuckDB (facet, rows, calls):"
    (cd "$out/duckdb" && node rollup.mjs check "$store/rollup_month/*/*/*.parquet") | sed 's/^/  /'
  fi
  contenders=(
    "iamlens principals|$out/iamlens principals --store $store --format json"
    "duckdb principals GROUP BY|node $out/duckdb/rollup.mjs principals $glob"
    "iamlens analyze --principal busy|$out/iamlens analyze --store $store --principal $busy --format json"
    "duckdb busy principal GROUP BY|node $out/duckdb/rollup.mjs principal $glob $busy"
    "iamlens analyze --principal quiet|$out/iamlens analyze --store $store --principal $quiet --format json"
    "duckdb quiet principal GROUP BY|node $out/duckdb/rollup.mjs principal $glob $quiet"
    "iamlens analyze --all|$out/iamlens analyze --store $store --all --format json"
    "duckdb every principal GROUP BY|node $out/duckdb/rollup.mjs all $glob"
  )
  if [[ -n "${BASELINE:-}" ]]; then
    contenders+=(
      "baseline principals|$BASELINE principals --store $store --format json"
      "baseline analyze --principal busy|$BASELINE analyze --store $store --principal $busy --format json"
      "baseline analyze --principal quiet|$BASELINE analyze --store $store --principal $quiet --format json"
    )
    [[ "${BASELINE_ALL:-}" == 1 ]] && contenders+=("baseline analyze --all|$BASELINE analyze --store $store --all --format json")
  fi
  # The contenders take turns, RUNS rounds of one run each (see the ingest
  # comparison below); the load average before and after says how busy the
  # machine was.
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  : > "$out/rollup-rounds.txt"
  for r in $(seq "$RUNS"); do
    for i in "${!contenders[@]}"; do
      cmd=${contenders[$i]#*|}
      set -f # the globs are DuckDB's
      # shellcheck disable=SC2086
      s=$(cd "$out/duckdb" && $TIME -f %e $cmd 2>&1 >/dev/null | tail -1)
      set +f
      echo "$i $s" >> "$out/rollup-rounds.txt"
    done
  done
  load1=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "dataset: $events events ($store; $(nproc) cores, $(go env GOVERSION), $(date -u '+%F %H:%M') UTC); $RUNS rounds, contenders in turns; load average $load0 before, $load1 after"
  printf '%-38s %8s %8s %8s\n' "" least median most
  for i in "${!contenders[@]}"; do
    grep "^$i " "$out/rollup-rounds.txt" | awk '{print $2}' | sort -n |
      awk -v name="${contenders[$i]%%|*}" '{v[NR] = $1} END {printf "%-38s %7.2fs %7.2fs %7.2fs\n", name, v[1], v[int((NR + 1) / 2)], v[NR]}'
  done
  exit 0
fi

if [[ "${1:-}" == analyze ]]; then
  go build -o "$out/iamlens" ./cmd/iamlens
  if [[ $# -lt 3 ]]; then
    # The generated datasets: the same accounts and principals over 48, then 96 days.
    sizes=(12288)
    [[ "${SKIP_DOUBLE:-}" == 1 ]] || sizes+=(24576)
    for mb in "${sizes[@]}"; do
      store=$out/store-${mb}m
      if [[ ! -f $store/.done ]]; then
        c=$(corpus "$mb")
        rm -rf "$store"
        "$out/iamlens" ingest --store "$store" --no-progress --format json "$c" >/dev/null
        touch "$store/.done"
      fi
      bash "$0" analyze "$store" arn:aws:iam::111122223333:role/app/role-0003
    done
    exit 0
  fi
  store=$2 arn=$3
  install_duckdb
  cat > "$out/duckdb/analyze.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const [glob, arn] = process.argv.slice(2);
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
const r = await conn.runAndReadAll(`SELECT event_source, event_name, error_code IS NULL AS ok, count(*) AS n,
  min(event_time) AS first, max(event_time) AS last
  FROM read_parquet('${glob}', hive_partitioning=true) WHERE principal_arn = '${arn}' GROUP BY ALL ORDER BY ALL`);
console.log(r.getRows().length);
JS
  events=$("$out/iamlens" principals --store "$store" --format json | grep -o '"events": [0-9]*' | awk '{s+=$2} END {print s}')
  best() { sort -n | head -1; }
  ia=$(for i in 1 2 3 4 5; do $TIME -f %e "$out/iamlens" analyze --store "$store" --principal "$arn" --format json 2>&1 >/dev/null | tail -1; done | best)
  dk=$(for i in 1 2 3 4 5; do (cd "$out/duckdb" && $TIME -f %e node analyze.mjs "$store/events/*/*/*.parquet" "$arn" 2>&1 >/dev/null | tail -1); done | best)
  echo "dataset: $events events; principal $arn ($(nproc) cores, $(go env GOVERSION), $(date -u +%F)); best of 5 whole-process runs"
  printf '%-40s %8s s\n' "iamlens analyze --principal (policy)" "$ia" "duckdb per-principal aggregation" "$dk"
  exit 0
fi

if [[ "${1:-}" == diff ]]; then
  go build -o "$out/iamlens" ./cmd/iamlens
  RUNS=${RUNS:-3}
  store=${2:-}
  if [[ -z $store ]]; then
    for cand in "$out/store-12288m-real" "$out/store-12288m"; do
      if [[ -f $cand/.done ]]; then store=$cand; break; fi
    done
    if [[ -z $store ]]; then
      store=$out/store-12288m
      c=$(corpus 12288)
      rm -rf "$store"
      "$out/iamlens" ingest --store "$store" --no-progress --format json "$c" >/dev/null
      touch "$store/.done"
    fi
  fi
  gaad=${3:-$out/gaad-1000-$(basename "$store")}
  if [[ ! -d $gaad ]]; then
    go run ./bench/gengaad -store "$store" -n 1000 -out "$gaad"
  fi
  gargs=()
  for f in "$gaad"/gaad-*.json; do gargs+=(--gaad "$f"); done
  events=$("$out/iamlens" principals --store "$store" --format json | grep -o '"events": [0-9]*' | awk '{s+=$2} END {print s}')
  # Whole processes in turns, RUNS rounds; wall seconds, CPU seconds
  # (user + system: steadier than wall on a shared machine) and peak RSS.
  load0=$(cut -d' ' -f1-3 /proc/loadavg)
  : > "$out/diff-rounds.txt"
  for r in $(seq "$RUNS"); do
    $TIME -f 'analyze %e %U %S %M' -o "$out/time.txt" "$out/iamlens" analyze --store "$store" --all --format json >/dev/null
    cat "$out/time.txt" >> "$out/diff-rounds.txt"
    $TIME -f 'diff %e %U %S %M' -o "$out/time.txt" "$out/iamlens" diff --store "$store" --all "${gargs[@]}" --format json > "$out/diff.json"
    cat "$out/time.txt" >> "$out/diff-rounds.txt"
  done
  load1=$(cut -d' ' -f1-3 /proc/loadavg)
  compared=$(grep -c '^{"principal"' "$out/diff.json" || true)
  echo "dataset: $events events ($store); GAAD: 1,000 principals in $(ls "$gaad" | wc -l) file(s), $compared compared (with events in the window)"
  echo "$(nproc) cores, $(go env GOVERSION), $(date -u '+%F %H:%M') UTC; $RUNS rounds in turns; load average $load0 before, $load1 after"
  printf '%-36s %10s %10s %12s\n' "" "best wall" "best CPU" "peak RSS"
  for what in analyze diff; do
    grep "^$what " "$out/diff-rounds.txt" | awk -v name="iamlens $what --all" '
      { cpu = $3 + $4; if (NR == 1 || $2 < w) w = $2; if (NR == 1 || cpu < c) c = cpu; if ($5 > m) m = $5 }
      END { printf "%-36s %9.2fs %9.2fs %8d MiB\n", name, w, c, m / 1024 }'
  done
  awk '$1 == "analyze" { c = $3 + $4; if (!a || c < a) a = c } $1 == "diff" { c = $3 + $4; if (!d || c < d) d = c }
    END { printf "diff / analyze (best CPU): %.2fx\n", d / a }' "$out/diff-rounds.txt"
  exit 0
fi

go build -o "$out/iamlens" ./cmd/iamlens
go build -o "$out/floor" ./bench/floor
c1=$(corpus "$MB")
json_mb=$("$out/floor" "$c1" | awk -F'\t' '{split($5, a, " "); print a[1]}')  # first run warms the page cache

floor_once() { "$out/floor" "$c1" | awk -F'\t' '{split($2, a, " "); print a[1], 0}'; }
floor_k_once() { "$out/floor" -gunzip klauspost "$c1" | awk -F'\t' '{split($2, a, " "); print a[1], 0}'; }

run_iamlens() { # corpus → "seconds rss_kb"
  local store=$out/store-bench
  rm -rf "$store"
  $TIME -f '%e %M' -o "$out/time.txt" "$out/iamlens" ingest --store "$store" --no-progress --format json "$1" > "$out/ingest.json"
  rm -rf "$store"
  cat "$out/time.txt"
}

if [[ "${SKIP_DUCKDB:-}" != 1 ]]; then
  install_duckdb
  cat > "$out/duckdb/copy.mjs" <<'JS'
import { DuckDBInstance } from '@duckdb/node-api';
const [glob, dest] = process.argv.slice(2);
const rec = `STRUCT(eventVersion VARCHAR, userIdentity STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR,
  accountId VARCHAR, accessKeyId VARCHAR, userName VARCHAR, invokedBy VARCHAR,
  sessionContext STRUCT(sessionIssuer STRUCT(type VARCHAR, principalId VARCHAR, arn VARCHAR, accountId VARCHAR, userName VARCHAR),
  attributes STRUCT(creationDate VARCHAR, mfaAuthenticated VARCHAR))),
  eventTime VARCHAR, eventSource VARCHAR, eventName VARCHAR, awsRegion VARCHAR, sourceIPAddress VARCHAR, userAgent VARCHAR,
  errorCode VARCHAR, errorMessage VARCHAR, requestParameters JSON, responseElements JSON, additionalEventData JSON,
  requestID VARCHAR, eventID VARCHAR, readOnly BOOLEAN, resources STRUCT(ARN VARCHAR, accountId VARCHAR, type VARCHAR)[],
  eventType VARCHAR, managementEvent BOOLEAN, recipientAccountId VARCHAR, eventCategory VARCHAR, vpcEndpointId VARCHAR,
  sharedEventID VARCHAR, tlsDetails STRUCT(tlsVersion VARCHAR, cipherSuite VARCHAR, clientProvidedHostHeader VARCHAR))`;
const sql = `COPY (
  SELECT r.eventID AS event_id, CAST(r.eventTime AS TIMESTAMP) AS event_time, r.eventVersion AS event_version,
    r.eventSource AS event_source, r.eventName AS event_name, r.awsRegion AS aws_region, r.sourceIPAddress AS source_ip,
    r.userAgent AS user_agent, r.userIdentity.type AS identity_type,
    coalesce(r.userIdentity.sessionContext.sessionIssuer.arn, r.userIdentity.arn) AS principal_arn,
    r.userIdentity.arn AS user_identity_arn, r.userIdentity.principalId AS principal_id,
    r.userIdentity.accessKeyId AS access_key_id, r.userIdentity.accountId AS principal_account,
    r.recipientAccountId AS recipient_account, r.userIdentity.invokedBy AS invoked_by,
    r.userIdentity.sessionContext.attributes.mfaAuthenticated = 'true' AS mfa_authenticated,
    r.errorCode AS error_code, r.errorMessage AS error_message, r.readOnly AS read_only, r.eventType AS event_type,
    r.eventCategory AS event_category, r.managementEvent AS management_event, r.vpcEndpointId AS vpc_endpoint_id,
    CAST(r.requestParameters AS VARCHAR) AS request_parameters, CAST(r.responseElements AS VARCHAR) AS response_elements,
    CAST(r.additionalEventData AS VARCHAR) AS additional_event_data, r.resources AS resources,
    r.sharedEventID AS shared_event_id, r.tlsDetails.tlsVersion AS tls_version
  FROM (SELECT unnest(Records) AS r FROM read_json('${glob}', columns={Records: '${rec}[]'},
        format='auto', compression='gzip', maximum_object_size=268435456))
) TO '${dest}' (FORMAT parquet, COMPRESSION snappy)`;
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const conn = await db.connect();
await conn.run(sql);
JS
  run_duckdb() {
    rm -f "$out/duckdb/out.parquet"
    (cd "$out/duckdb" && $TIME -f '%e %M' -o "$out/time.txt" node copy.mjs "$c1/AWSLogs/*/CloudTrail/*/*/*/*/*.json.gz" "$out/duckdb/out.parquet")
    rm -f "$out/duckdb/out.parquet"
    cat "$out/time.txt"
  }
fi

# The contenders take turns, RUNS rounds of one run each, so that every
# round compares runs made in the same minute: this machine's speed drifts
# by a quarter within the hour, and runs of one contender after another
# would compare its fast spell with another's slow one. Each contender's
# best run is reported, and the ratios of each round besides.
: > "$out/rounds.txt"
for r in $(seq "$RUNS"); do
  read -r f _ <<<"$(floor_once)"
  read -r fk _ <<<"$(floor_k_once)"
  read -r ia ia_kb <<<"$(run_iamlens "$c1")"
  dk=- dk_kb=-
  if [[ "${SKIP_DUCKDB:-}" != 1 ]]; then
    read -r dk dk_kb <<<"$(run_duckdb)"
  fi
  echo "$f $fk $ia $ia_kb $dk $dk_kb" >> "$out/rounds.txt"
done
records=$(grep -o '"records": [0-9]*' "$out/ingest.json" | awk '{print $2}')
# bestcol N → the fastest time in column N of the rounds, with the peak RSS in column N+1 of that run
bestcol() { awk -v c="$1" '{print $c, $(c + 1)}' "$out/rounds.txt" | sort -n | head -1; }
read -r floor_s _ <<<"$(bestcol 1)"
read -r floor_k_s _ <<<"$(bestcol 2)"
read -r ia_s ia_rss <<<"$(bestcol 3)"
read -r dk_s dk_rss <<<"$(bestcol 5)"
# best CMD... → the fastest of RUNS runs of a command that prints "seconds rss_kb"
best() { for _ in $(seq "$RUNS"); do "$@"; done | sort -n | head -1; }

c2=$(corpus $((MB * 2)))
read -r ia2_s ia2_rss <<<"$(best run_iamlens "$c2")"

mbps() { awk -v mb="$json_mb" -v s="$1" 'BEGIN { if (s == "-") print "-"; else printf "%.0f", mb * 1.048576 / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%.2fx", a / b }'; }
echo
echo "corpus: $MB MiB target, $json_mb MiB of JSON, $records records ($(nproc) cores, $(go env GOVERSION), $(date -u +%F)); best of $RUNS rounds, the contenders taking turns"
printf '%-28s %9s %9s %10s %12s\n' "" seconds "MB/s" "vs floor" "peak RSS"
printf '%-28s %9s %9s %10s %12s\n' "floor (read + gunzip)" "$floor_s" "$(mbps "$floor_s")" "1.00x" "-"
printf '%-28s %9s %9s %10s %12s\n' "floor, klauspost gunzip" "$floor_k_s" "$(mbps "$floor_k_s")" "$(ratio "$floor_k_s" "$floor_s")" "-"
printf '%-28s %9s %9s %10s %9d MiB\n' "iamlens ingest" "$ia_s" "$(mbps "$ia_s")" "$(ratio "$ia_s" "$floor_s")" $((ia_rss / 1024))
if [[ $dk_s != - ]]; then
  printf '%-28s %9s %9s %10s %9d MiB\n' "duckdb COPY read_json" "$dk_s" "$(mbps "$dk_s")" "$(ratio "$dk_s" "$floor_s")" $((dk_rss / 1024))
  echo "iamlens vs duckdb: $(ratio "$dk_s" "$ia_s") faster"
fi
echo "iamlens vs the klauspost floor: $(ratio "$ia_s" "$floor_k_s")"
printf '%-28s %9s %9s %10s %9d MiB\n' "iamlens ingest, 2x corpus" "$ia2_s" "-" "-" $((ia2_rss / 1024))
# per_round LABEL N D → LABEL, then column N over column D of each round, in the same minute
per_round() { awk -v label="$1" -v n="$2" -v d="$3" '{ printf "%s%.2fx", (NR > 1 ? ", " : label ", round by round: "), $n / $d } END { print "" }' "$out/rounds.txt"; }
per_round "iamlens vs the klauspost floor" 3 2
if [[ "${SKIP_DUCKDB:-}" != 1 ]]; then
  per_round "iamlens vs duckdb" 5 3
fi
