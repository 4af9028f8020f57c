// Package reviewtest builds the generated account the tests of the review
// and of the key plan share: CloudTrail logs spanning more than 400 days
// (a quarterly key, a key failing every minute, a user who left, a
// periodic role, a failing role…) and the account's IAM state at the same
// moment, as an iamlens snapshot. It is imported only from _test files.
package reviewtest

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// Account is the generated account.
const Account = "111122223333"

// At is when the generated state was read: "now" for the review.
var At = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

// The access keys of the generated account.
const (
	DeployerKey = "AKIADEPLOYER00000001" // quarterly CI key, last used 100 days ago
	OldJobKey   = "AKIAOLDJOB0000000001" // every call denied, every minute, for 30 days
	InternKey   = "AKIAINTERN0000000001" // active, never used, 200 days old
	AliceKey    = "AKIAALICE00000000001" // in daily use
	BobKey      = "AKIABOB0000000000001" // unused for 140 days; bob left
)

func ago(d time.Duration) time.Time { return At.Add(-d) }

const day = 24 * time.Hour

func arnUser(name string) string { return "arn:aws:iam::" + Account + ":user/" + name }
func arnRole(path, name string) string {
	return "arn:aws:iam::" + Account + ":role" + path + name
}

type gen struct {
	recs []ingesttest.Record
	n    int
}

func (g *gen) rec(t time.Time, ui map[string]any, source, name, errCode, ip, agent string, req map[string]any) {
	g.n++
	r := ingesttest.Record{
		"eventVersion": "1.08", "userIdentity": ui, "eventTime": t.UTC().Format(time.RFC3339),
		"eventSource": source, "eventName": name, "awsRegion": "us-east-1",
		"sourceIPAddress": ip, "userAgent": agent, "requestParameters": req, "responseElements": nil,
		"eventID": fmt.Sprintf("ev-%07d", g.n), "eventType": "AwsApiCall", "managementEvent": true,
		"recipientAccountId": Account, "eventCategory": "Management",
	}
	if errCode != "" {
		r["errorCode"] = errCode
		r["errorMessage"] = "generated error " + errCode
	}
	g.recs = append(g.recs, r)
}

func user(name, key string) map[string]any {
	return map[string]any{"type": "IAMUser", "principalId": "AIDA" + strings.ToUpper(name), "accountId": Account,
		"arn": arnUser(name), "userName": name, "accessKeyId": key}
}

func role(path, name, session string) map[string]any {
	return map[string]any{"type": "AssumedRole", "principalId": "AROA" + strings.ToUpper(name) + ":" + session, "accountId": Account,
		"arn": "arn:aws:sts::" + Account + ":assumed-role/" + name + "/" + session, "accessKeyId": "ASIA" + strings.ToUpper(name),
		"sessionContext": map[string]any{
			"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROA" + strings.ToUpper(name), "arn": arnRole(path, name), "accountId": Account, "userName": name},
			"attributes":    map[string]any{"creationDate": "2026-01-01T00:00:00Z", "mfaAuthenticated": "false"},
		}}
}

const (
	ssoRole    = "AWSReservedSSO_AdministratorAccess_0123456789abcdef"
	ssoPath    = "/aws-reserved/sso.amazonaws.com/"
	terraform  = "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) exec-env/GitHubActions"
	cli        = "aws-cli/2.15.30 Python/3.11.8 Linux/6.1 exe/x86_64.ubuntu.22"
	boto       = "Boto3/1.34.0 md/Botocore#1.34.0 ua/2.0 os/linux#5.10 md/arch#x86_64 lang/python#3.12.1 exec-env/AWS_Lambda_python3.12"
	console    = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15"
	ciIP       = "203.0.113.10"
	officeIP   = "198.51.100.23"
	datacenter = "192.0.2.44"
)

// Records returns the generated events, oldest first.
func Records() []ingesttest.Record {
	g := &gen{}
	carol := role(ssoPath, ssoRole, "carol@example.com")
	// bob was created 400 days ago by carol, through Identity Center,
	// with a key; carol last touched him 300 days ago.
	g.rec(ago(400*day), carol, "iam.amazonaws.com", "CreateUser", "", officeIP, console, map[string]any{"userName": "bob"})
	g.rec(ago(400*day).Add(time.Minute), carol, "iam.amazonaws.com", "CreateAccessKey", "", officeIP, console, map[string]any{"userName": "bob"})
	g.rec(ago(300*day), carol, "iam.amazonaws.com", "AttachUserPolicy", "", officeIP, console,
		map[string]any{"userName": "bob", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
	// bob used his key until 140 days ago.
	for d := 180; d >= 140; d -= 5 {
		g.rec(ago(time.Duration(d)*day), user("bob", BobKey), "s3.amazonaws.com", "ListBuckets", "", officeIP, cli, map[string]any{})
	}
	// deployer: a quarterly release from CI, the last 100 days ago.
	for _, d := range []int{464, 373, 282, 191, 100} {
		for i := 0; i < 3; i++ {
			g.rec(ago(time.Duration(d)*day).Add(time.Duration(i)*time.Minute), user("deployer", DeployerKey), "cloudformation.amazonaws.com", "UpdateStack", "", ciIP, terraform,
				map[string]any{"stackName": "billing"})
		}
	}
	// old-job: worked 200 days ago; for the last 30 days a forgotten cron
	// retries every minute and is denied.
	g.rec(ago(200*day), user("old-job", OldJobKey), "sqs.amazonaws.com", "SendMessage", "", datacenter, boto, map[string]any{"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/jobs"})
	for t := ago(30 * day).Truncate(time.Minute).Add(time.Minute); t.Before(At); t = t.Add(time.Minute) {
		g.rec(t, user("old-job", OldJobKey), "sqs.amazonaws.com", "SendMessage", "AccessDenied", datacenter, boto, map[string]any{"queueUrl": "https://sqs.us-east-1.amazonaws.com/111122223333/jobs"})
	}
	// alice works every day of the last two weeks.
	for d := 14; d >= 1; d-- {
		g.rec(ago(time.Duration(d)*day), user("alice", AliceKey), "ec2.amazonaws.com", "DescribeInstances", "", officeIP, cli, map[string]any{})
	}
	// nightly-report: a monthly report role, the last 20 days ago.
	for _, d := range []int{200, 170, 140, 110, 80, 50, 20} {
		g.rec(ago(time.Duration(d)*day), role("/", "nightly-report", "report"), "athena.amazonaws.com", "StartQueryExecution", "", "athena.amazonaws.com", "athena.amazonaws.com", map[string]any{})
	}
	// legacy-etl: last used 200 days ago.
	g.rec(ago(200*day), role("/", "legacy-etl", "etl"), "glue.amazonaws.com", "StartJobRun", "", "glue.amazonaws.com", "glue.amazonaws.com", map[string]any{})
	// broken-lambda: worked 60 days ago, denied every hour since 10 days.
	g.rec(ago(60*day), role("/", "broken-lambda", "fn"), "dynamodb.amazonaws.com", "PutItem", "", datacenter, boto, map[string]any{"tableName": "orders"})
	for t := ago(10 * day); t.Before(At); t = t.Add(time.Hour) {
		g.rec(t, role("/", "broken-lambda", "fn"), "dynamodb.amazonaws.com", "PutItem", "AccessDeniedException", datacenter, boto, map[string]any{"tableName": "orders"})
	}
	// carol, through Identity Center, yesterday.
	g.rec(ago(day), carol, "iam.amazonaws.com", "ListUsers", "", officeIP, console, map[string]any{})
	sort.SliceStable(g.recs, func(i, j int) bool { return g.recs[i]["eventTime"].(string) < g.recs[j]["eventTime"].(string) })
	return g.recs
}

// WriteLogs writes the generated events as gzipped CloudTrail files, one
// a day, in the account-trail layout under dir.
func WriteLogs(t testing.TB, dir string) {
	t.Helper()
	byDay := map[string][]ingesttest.Record{}
	for _, r := range Records() {
		d := r["eventTime"].(string)[:10]
		byDay[d] = append(byDay[d], r)
	}
	for d, recs := range byDay {
		ingesttest.WriteFile(t, dir, ingesttest.Key(Account, "us-east-1", strings.ReplaceAll(d, "-", "/"), 0),
			ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	}
}

// Query is the Activity query of the review of the generated account:
// its actions mapped over the 90 days before At.
func Query(t testing.TB) review.Query {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	return review.Query{Mapper: actionmap.New(cat), From: At.Add(-90 * day), To: At}
}

// Store writes the logs and ingests them into a new store.
func Store(t testing.TB) (*store.Store, string) {
	t.Helper()
	logs := t.TempDir()
	WriteLogs(t, logs)
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(logs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), src, st, ingest.Options{Workers: 2}); err != nil {
		t.Fatal(err)
	}
	return st, dir
}

func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// reportRow is one credential report row: password last used ("" for no
// password, "no_information" for never), one key.
func reportRow(name string, created time.Time, pwLast string, keyActive bool, keyCreated time.Time, keyLast string) string {
	pwEnabled, pwChanged := "false", "N/A"
	if pwLast == "" {
		pwLast = "N/A"
	} else {
		pwEnabled, pwChanged = "true", rfc(created)
	}
	k1, k1rot, k1last, k1region, k1svc := "false", "N/A", "N/A", "N/A", "N/A"
	if !keyCreated.IsZero() {
		k1, k1rot = fmt.Sprint(keyActive), rfc(keyCreated)
		if keyLast != "" {
			k1last, k1region, k1svc = keyLast, "us-east-1", "s3"
		}
	}
	return strings.Join([]string{name, arnUser(name), rfc(created), pwEnabled, pwLast, pwChanged, "N/A", "false",
		k1, k1rot, k1last, k1region, k1svc, "false", "N/A", "N/A", "N/A", "N/A", "false", "N/A", "false", "N/A"}, ",")
}

type keySpec struct {
	user, id string
	created  time.Time
}

// Snapshot returns the generated account's state as an iamlens snapshot
// (format iamlens-cis-snapshot/1), read at At.
func Snapshot() []byte {
	keys := []keySpec{
		{"alice", AliceKey, ago(30 * day)},
		{"bob", BobKey, ago(400 * day).Add(time.Minute)},
		{"deployer", DeployerKey, ago(600 * day)},
		{"intern", InternKey, ago(200 * day)},
		{"old-job", OldJobKey, ago(500 * day)},
	}
	header := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated"
	rows := []string{header,
		"<root_account>,arn:aws:iam::" + Account + ":root," + rfc(ago(900*day)) + ",not_supported," + rfc(ago(50*day)) + ",not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
		reportRow("alice", ago(30*day), rfc(ago(2*day)), true, keys[0].created, rfc(ago(day))),
		reportRow("bob", ago(400*day), rfc(ago(150*day)), true, keys[1].created, rfc(ago(140*day))),
		reportRow("deployer", ago(600*day), "", true, keys[2].created, rfc(ago(100*day))),
		reportRow("intern", ago(200*day), "no_information", true, keys[3].created, ""),
		reportRow("old-job", ago(500*day), "", true, keys[4].created, rfc(At.Add(-time.Minute))),
	}
	users := []map[string]any{}
	creds := map[string]any{}
	for _, k := range keys {
		u := map[string]any{"UserName": k.user, "Arn": arnUser(k.user), "UserId": "AIDA" + strings.ToUpper(k.user), "Path": "/"}
		switch k.user {
		case "bob":
			u["CreateDate"] = rfc(ago(400 * day))
			u["Tags"] = []map[string]string{{"Key": "owner", "Value": "bob@example.com"}, {"Key": "team", "Value": "data"}}
			u["GroupList"] = []string{"analysts"}
		case "alice":
			u["CreateDate"] = rfc(ago(30 * day))
			u["UserPolicyList"] = []map[string]any{{"PolicyName": "work", "PolicyDocument": map[string]any{"Version": "2012-10-17",
				"Statement": []any{map[string]any{"Effect": "Allow", "Action": []string{"ec2:DescribeInstances", "ec2:DescribeVolumes", "s3:GetObject"}, "Resource": "*"}}}}}
		case "deployer":
			u["CreateDate"] = rfc(ago(600 * day))
			u["Tags"] = []map[string]string{{"Key": "purpose", "Value": "ci-release"}}
		case "intern":
			u["CreateDate"] = rfc(ago(200 * day))
		case "old-job":
			u["CreateDate"] = rfc(ago(500 * day))
		}
		users = append(users, u)
		creds[k.user] = map[string]any{"AccessKeyMetadata": []map[string]any{{"UserName": k.user, "AccessKeyId": k.id, "Status": "Active", "CreateDate": rfc(k.created)}}, "MFADevices": []any{}}
	}
	roleDetail := func(path, name string, created time.Time, lastUsed time.Time) map[string]any {
		r := map[string]any{"RoleName": name, "Path": path, "Arn": arnRole(path, name), "RoleId": "AROA" + strings.ToUpper(name), "CreateDate": rfc(created),
			"AssumeRolePolicyDocument": map[string]any{"Version": "2012-10-17", "Statement": []any{}}}
		if !lastUsed.IsZero() {
			r["RoleLastUsed"] = map[string]any{"LastUsedDate": rfc(lastUsed), "Region": "us-east-1"}
		} else {
			r["RoleLastUsed"] = map[string]any{}
		}
		return r
	}
	report := roleDetail("/", "nightly-report", ago(365*day), ago(20*day))
	report["RolePolicyList"] = []map[string]any{{"PolicyName": "athena", "PolicyDocument": map[string]any{"Version": "2012-10-17",
		"Statement": []any{map[string]any{"Effect": "Allow", "Action": []string{"athena:StartQueryExecution", "athena:GetQueryResults"}, "Resource": "*"}}}}}
	roles := []map[string]any{
		roleDetail(ssoPath, ssoRole, ago(700*day), ago(day)),
		roleDetail("/aws-service-role/support.amazonaws.com/", "AWSServiceRoleForSupport", ago(700*day), time.Time{}),
		roleDetail("/", "broken-lambda", ago(300*day), ago(time.Hour)),
		roleDetail("/", "legacy-etl", ago(700*day), ago(200*day)),
		report,
	}
	snap := map[string]any{
		"format": "iamlens-cis-snapshot/1", "accountId": Account, "partition": "aws", "collectedAt": rfc(At),
		"iam": map[string]any{
			"authorizationDetails": map[string]any{"UserDetailList": users, "GroupDetailList": []any{}, "RoleDetailList": roles, "Policies": []any{}},
			"credentialReport":     map[string]any{"CSV": strings.Join(rows, "\n") + "\n", "ReportFormat": "text/csv", "GeneratedTime": rfc(At)},
			"userCredentials":      creds,
		},
	}
	b, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		panic(err)
	}
	return b
}

// WriteSnapshot writes Snapshot to dir/snapshot.json and returns its path.
func WriteSnapshot(t testing.TB, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "snapshot.json")
	if err := os.WriteFile(p, Snapshot(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
