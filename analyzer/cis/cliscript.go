package cis

// cliScript is the script PrintCLI prints. Every command is a read; the one
// write-looking call, iam generate-credential-report, asks IAM to build
// the credential report and changes nothing.
const cliScript = `#!/usr/bin/env bash
# iamlens CIS snapshot with the AWS CLI alone (for CloudShell or any shell
# with credentials of the account). Every call is read-only.
#   bash iamlens-cis.sh [FOLDER]        # default ./iamlens-snapshot
# Then, anywhere with iamlens: iamlens cis --snapshot FOLDER
# Files: FOLDER/global/<service>-<operation>[__<param>].json and
# FOLDER/<region>/...; a failed call leaves <name>.error with its message.
set -u
OUT="${1:-iamlens-snapshot}"
REGIONS="__REGIONS__"
export AWS_PAGER=""
mkdir -p "$OUT/global"

safe() { printf '%s' "$1" | LC_ALL=C tr -c 'A-Za-z0-9._-' '_'; }

# run DIR NAME aws-args...: write the JSON output to DIR/NAME.json, or the
# error to DIR/NAME.error.
run() {
  local dir="$1" name="$2"; shift 2
  if aws "$@" --output json > "$dir/$name.json.tmp" 2> "$dir/$name.error"; then
    mv "$dir/$name.json.tmp" "$dir/$name.json"; rm -f "$dir/$name.error"
  else
    rm -f "$dir/$name.json.tmp"; echo "failed: aws $*" >&2
  fi
}
# list DIR NAME QUERY: the values QUERY selects in DIR/NAME.json, one a line.
list() {
  [ -s "$1/$2.json" ] || return 0
  python3 -c 'import json,sys
d=json.load(open(sys.argv[1]))
for x in eval(sys.argv[2]): print(x)' "$1/$2.json" "$3" 2>/dev/null
}

G="$OUT/global"
date -u +%Y-%m-%dT%H:%M:%SZ > "$G/iamlens-collected-at.txt"
run "$G" sts-get-caller-identity sts get-caller-identity
ACCOUNT=$(list "$G" sts-get-caller-identity '[d["Account"]]')
PART=$(list "$G" sts-get-caller-identity '[d["Arn"].split(":")[1]]')
run "$G" iam-list-account-aliases iam list-account-aliases
for i in 1 2 3 4 5 6 7 8 9 10; do
  aws iam generate-credential-report --output text --query State 2>/dev/null | grep -q COMPLETE && break
  sleep 3
done
run "$G" iam-get-credential-report iam get-credential-report
run "$G" iam-get-account-authorization-details iam get-account-authorization-details
run "$G" iam-list-virtual-mfa-devices iam list-virtual-mfa-devices
run "$G" iam-get-account-password-policy iam get-account-password-policy
run "$G" iam-get-account-summary iam get-account-summary
run "$G" iam-list-server-certificates iam list-server-certificates
for P in AWSSupportAccess AWSCloudShellFullAccess; do
  ARN="arn:$PART:iam::aws:policy/$P"
  run "$G" "iam-list-entities-for-policy__$(safe "$ARN")" iam list-entities-for-policy --policy-arn "$ARN"
done
run "$G" s3control-get-public-access-block s3control get-public-access-block --account-id "$ACCOUNT"
run "$G" ec2-describe-regions ec2 describe-regions --filters Name=opt-in-status,Values=opt-in-not-required,opted-in
[ -n "$REGIONS" ] || REGIONS=$(list "$G" ec2-describe-regions '[r["RegionName"] for r in d["Regions"]]')

BUCKETS=""
for R in $REGIONS; do
  D="$OUT/$R"; mkdir -p "$D"; echo "reading $R" >&2
  run "$D" cloudtrail-describe-trails cloudtrail describe-trails --include-shadow-trails --region "$R"
  for T in $(list "$D" cloudtrail-describe-trails '[t["TrailARN"] for t in d["trailList"] if t["HomeRegion"]=="'"$R"'"]'); do
    run "$D" "cloudtrail-get-trail-status__$(safe "$T")" cloudtrail get-trail-status --name "$T" --region "$R"
    run "$D" "cloudtrail-get-event-selectors__$(safe "$T")" cloudtrail get-event-selectors --trail-name "$T" --region "$R"
  done
  BUCKETS="$BUCKETS $(list "$D" cloudtrail-describe-trails '[t["S3BucketName"] for t in d["trailList"] if t.get("S3BucketName")]')"
  run "$D" kms-list-keys kms list-keys --region "$R"
  for K in $(list "$D" kms-list-keys '[k["KeyId"] for k in d["Keys"]]'); do
    run "$D" "kms-describe-key__$(safe "$K")" kms describe-key --key-id "$K" --region "$R"
    run "$D" "kms-get-key-rotation-status__$(safe "$K")" kms get-key-rotation-status --key-id "$K" --region "$R"
  done
  run "$D" logs-describe-metric-filters logs describe-metric-filters --region "$R"
  run "$D" cloudwatch-describe-alarms cloudwatch describe-alarms --region "$R"
  for TP in $(list "$D" cloudwatch-describe-alarms 'sorted({a for m in d["MetricAlarms"] for a in m.get("AlarmActions",[]) if ":sns:" in a})'); do
    run "$D" "sns-list-subscriptions-by-topic__$(safe "$TP")" sns list-subscriptions-by-topic --topic-arn "$TP" --region "$R"
  done
  run "$D" configservice-describe-configuration-recorders configservice describe-configuration-recorders --region "$R"
  run "$D" configservice-describe-configuration-recorder-status configservice describe-configuration-recorder-status --region "$R"
  run "$D" ec2-describe-vpcs ec2 describe-vpcs --region "$R"
  run "$D" ec2-describe-flow-logs ec2 describe-flow-logs --region "$R"
  run "$D" ec2-describe-security-groups ec2 describe-security-groups --region "$R"
  run "$D" ec2-describe-network-acls ec2 describe-network-acls --region "$R"
  run "$D" ec2-describe-instances ec2 describe-instances --region "$R"
  run "$D" ec2-get-ebs-encryption-by-default ec2 get-ebs-encryption-by-default --region "$R"
  run "$D" accessanalyzer-list-analyzers accessanalyzer list-analyzers --region "$R"
  run "$D" rds-describe-db-instances rds describe-db-instances --region "$R"
  run "$D" efs-describe-file-systems efs describe-file-systems --region "$R"
  run "$D" securityhub-describe-hub securityhub describe-hub --region "$R"
done

run "$G" s3api-list-buckets s3api list-buckets
BUCKETS="$BUCKETS $(list "$G" s3api-list-buckets '[b["Name"] for b in d["Buckets"]]')"
for B in $(printf '%s\n' $BUCKETS | sort -u); do
  S=$(safe "$B")
  run "$G" "s3api-get-bucket-location__$S" s3api get-bucket-location --bucket "$B"
  run "$G" "s3api-get-public-access-block__$S" s3api get-public-access-block --bucket "$B"
  run "$G" "s3api-get-bucket-policy__$S" s3api get-bucket-policy --bucket "$B"
  run "$G" "s3api-get-bucket-versioning__$S" s3api get-bucket-versioning --bucket "$B"
  run "$G" "s3api-get-bucket-acl__$S" s3api get-bucket-acl --bucket "$B"
  run "$G" "s3api-get-bucket-policy-status__$S" s3api get-bucket-policy-status --bucket "$B"
  run "$G" "s3api-get-bucket-logging__$S" s3api get-bucket-logging --bucket "$B"
done
echo "wrote $OUT: evaluate it with: iamlens cis --snapshot $OUT" >&2
`
