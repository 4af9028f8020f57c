package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/policygen"
)

const benjamin = "arn:aws:iam::123837392027:user/benjamin"

func TestAnalyzeCLI(t *testing.T) {
	if _, err := catalog.Load(); err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
	st := sampleStore(t)

	code, out, stderr := runCLI(t, "analyze", "--store", st, "--principal", "benjamin")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var docs map[string][]policygen.Document
	if err := json.Unmarshal([]byte(out), &docs); err != nil || len(docs) != 1 || len(docs[benjamin]) != 1 ||
		docs[benjamin][0].Version != policygen.PolicyVersion || len(docs[benjamin][0].Statement) == 0 {
		t.Fatalf("policy: %v\n%s", err, out)
	}

	code, out, stderr = runCLI(t, "analyze", "--store", st, "--principal", benjamin, "--format", "json", "--condition-region")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	var reps []struct {
		Principal  string `json:"principal"`
		Conditions []struct {
			Key string `json:"key"`
		} `json:"conditions"`
		Usage struct {
			Events int64 `json:"events"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(out), &reps); err != nil || len(reps) != 1 {
		t.Fatalf("the report of one principal is not an array of one: %v\n%s", err, out)
	}
	rep := reps[0]
	_, byUser := sampleEventsOf(t, "benjamin")
	if rep.Principal != benjamin || rep.Usage.Events != byUser || len(rep.Conditions) != 1 || rep.Conditions[0].Key != "aws:RequestedRegion" {
		t.Errorf("report: %+v (the logs hold %d events of benjamin)", rep, byUser)
	}

	for format, want := range map[string]string{
		"terraform":      `data "aws_iam_policy_document" "benjamin" {`,
		"cloudformation": `Type: "AWS::IAM::ManagedPolicy"`,
		"table":          benjamin + " (iam-user)",
	} {
		code, out, stderr = runCLI(t, "analyze", "--store", st, "--principal", "benjamin", "--format", format)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("%s: exit %d, %s\n%s", format, code, stderr, out)
		}
	}

	// several principals: the same shapes, longer
	code, out, _ = runCLI(t, "analyze", "--store", st, "--principal", "benjamin,bert-jan")
	var many map[string][]policygen.Document
	if code != 0 || json.Unmarshal([]byte(out), &many) != nil || len(many) != 2 {
		t.Errorf("two principals: exit %d\n%s", code, out)
	}
	code, out, _ = runCLI(t, "analyze", "--store", st, "--principal", "benjamin,bert-jan", "--format", "json")
	var arr []json.RawMessage
	if code != 0 || json.Unmarshal([]byte(out), &arr) != nil || len(arr) != 2 {
		t.Errorf("two reports: exit %d\n%s", code, out)
	}
}

// sampleEventsOf counts the sample's records of the IAM user name, read
// with encoding/json.
func sampleEventsOf(t *testing.T, name string) (string, int64) {
	t.Helper()
	var n int64
	ingesttest.LogFiles(t, sampleDir, func(p string, data []byte) {
		var log struct {
			Records []struct {
				UserIdentity struct{ Type, UserName string } `json:"userIdentity"`
			}
		}
		if err := json.Unmarshal(data, &log); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range log.Records {
			if r.UserIdentity.Type == "IAMUser" && r.UserIdentity.UserName == name {
				n++
			}
		}
	})
	if n == 0 {
		t.Fatalf("no records of %s in the sample", name)
	}
	return name, n
}

func TestAnalyzeUsageErrors(t *testing.T) {
	if _, err := catalog.Load(); err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
	st := sampleStore(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", "--store", st}, "give --principal or --all"},
		{[]string{"analyze", "--store", st, "--all", "--principal", "x"}, "give --principal or --all"},
		{[]string{"analyze", "--store", st, "--all", "--format", "yaml"}, "--format must be"},
		{[]string{"analyze", "--store", st, "--all", "--resources", "everything"}, "unknown resource mode"},
		{[]string{"analyze", "--store", st, "--all", "--condition-source", "vpn"}, "unknown source condition"},
		{[]string{"analyze", "--store", st, "--principal", "benjamn"}, "Did you mean:\n  " + benjamin},
		{[]string{"analyze", "--store", st, "--principal", "arn:aws:iam::123837392027:user/benjamn"}, "Did you mean:\n  " + benjamin},
	} {
		code, _, stderr := runCLI(t, tc.args...)
		if code != exitUsage || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want exit 2 and %q", tc.args[3:], code, stderr, tc.want)
		}
	}
}

func TestAnalyzeLogs(t *testing.T) {
	if _, err := catalog.Load(); err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
	st := filepath.Join(t.TempDir(), "store")
	code, out, stderr := runCLI(t, "analyze", "--store", st, "--no-progress", "--logs", sampleDir,
		"--principal", "stratus-red-team-ec2-enumerate-role", "--format", "table")
	if code != 0 || !strings.Contains(out, "role/stratus-red-team-ec2-enumerate-role") {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	// a second run finds the logs already ingested and gives the same answer
	code, out2, _ := runCLI(t, "analyze", "--store", st, "--logs", sampleDir,
		"--principal", "stratus-red-team-ec2-enumerate-role", "--format", "table")
	if code != 0 || out2 != out {
		t.Errorf("second run: exit %d, output differs: %v", code, out2 != out)
	}
}

// TestAnalyzeAllDeploys: --all leaves principals with nothing to grant out
// of the deployable formats (saying so on stderr), so no policy without
// statements is written; the report keeps them.
func TestAnalyzeAllDeploys(t *testing.T) {
	st := sampleStore(t)
	empty := "arn:aws:iam::123837392027:role/stratus-red-team-ec2-get-password-data-role" // 29 calls, all denied
	// how each format names the principal a policy is for
	named := map[string]string{"policy": `"` + empty + `": [`, "terraform": "# Least-privilege policy for " + empty, "cloudformation": "  # " + empty + " ("}
	for _, format := range []string{"policy", "terraform", "cloudformation"} {
		code, out, stderr := runCLI(t, "analyze", "--store", st, "--all", "--format", format)
		if code != 0 || strings.Contains(out, "Statement: []") || strings.Contains(out, `"Statement": []`) || strings.Contains(out, named[format]) ||
			!strings.Contains(out, strings.ReplaceAll(named[format], empty, benjamin)) {
			t.Errorf("%s: exit %d, an empty policy or one for %s in the output:\n%s", format, code, empty, out)
		}
		if !strings.Contains(stderr, "iamlens: left out "+empty+": "+policygen.NothingToGrant) {
			t.Errorf("%s: stderr does not say what was left out:\n%s", format, stderr)
		}
	}
	code, out, _ := runCLI(t, "analyze", "--store", st, "--all", "--format", "json")
	if code != 0 || !strings.Contains(out, empty) || !strings.Contains(out, policygen.NothingToGrant) {
		t.Errorf("json: exit %d; the report lacks %s", code, empty)
	}
	// a principal with nothing to grant, alone: nothing to write is an error
	code, out, stderr := runCLI(t, "analyze", "--store", st, "--principal", empty)
	if code != exitError || out != "" || !strings.Contains(stderr, "no policy to write") {
		t.Errorf("alone: exit %d, %q, %q", code, out, stderr)
	}
}

// TestAnalyzeWindow: a principal with events only outside the window, or
// an account with no events, gets a message naming the window or the
// accounts there are, and how to widen it.
func TestAnalyzeWindow(t *testing.T) {
	st := sampleStore(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--principal", "benjamin", "--from", "2026-01-01"}, []string{
			`no events of principal "benjamin" from 2026-01-01 to the end of the dataset`,
			benjamin + " has events outside that window (the dataset holds events from 2023-07-10 to 2023-07-10): try --from 2023-07-10 --to 2023-07-10."}},
		{[]string{"--principal", "benjamin", "--to", "2023-07-09"}, []string{
			`from 2023-04-12 to 2023-07-09 (by default, the last 90 days of the dataset)`, "try --from 2023-07-10"}},
		{[]string{"--all", "--from", "2026-01-01"}, []string{"no user or role to analyse from 2026-01-01", "try --from 2023-07-10"}},
		{[]string{"--principal", "benjamin", "--account", "111111111111"}, []string{"no events of account 111111111111 in the dataset (it holds 123837392027)"}},
	} {
		code, _, stderr := runCLI(t, append([]string{"analyze", "--store", st}, tc.args...)...)
		if code != exitUsage || strings.Contains(stderr, "holds no events") {
			t.Errorf("%v: exit %d, %q", tc.args, code, stderr)
		}
		for _, w := range tc.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, stderr)
			}
		}
	}
}

// TestAnalyzeNotesInEveryFormat: conditions asked for but not added, a
// --size compact that did not avoid a split, and the calls left out are
// said on stderr whatever the format.
func TestAnalyzeNotesInEveryFormat(t *testing.T) {
	st := sampleStore(t)
	for _, format := range analyzeFormats {
		_, _, stderr := runCLI(t, "analyze", "--store", st, "--principal", "benjamin", "--condition-source", "ip", "--condition-mfa", "--format", format)
		for _, w := range []string{
			benjamin + ": condition aws:SourceIp not added: 15 of 91 successful calls came through an AWS service",
			benjamin + ": condition aws:MultiFactorAuthPresent not added: only 52 of 91 successful calls were made with MFA",
			// calls authorised then failed are granted (--exclude-failed below)
			benjamin + ": not in the policy: 2 unmapped calls",
		} {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", format, w, stderr)
			}
		}
		_, _, stderr = runCLI(t, "analyze", "--store", st, "--principal", "benjamin", "--exclude-failed", "--format", format)
		if w := benjamin + ": not in the policy: 14 failed calls, 2 unmapped calls"; !strings.Contains(stderr, w) {
			t.Errorf("%s --exclude-failed: stderr lacks %q:\n%s", format, w, stderr)
		}
		_, _, stderr = runCLI(t, "analyze", "--store", st, "--principal", "bert-jan", "--resources", "exact", "--size", "compact", "--format", format)
		if !regexp.MustCompile(`user/bert-jan: --size compact was not enough; split: [0-9,]+ characters are over the 6,144-character limit`).MatchString(stderr) {
			t.Errorf("%s: stderr does not say compact did not help:\n%s", format, stderr)
		}
	}
}

// TestAnalyzeLogsShowsIngest: --logs prints ingest's summary, bad files
// named, on stderr; the policy alone is on stdout; the S3 flags need
// --logs.
func TestAnalyzeLogsShowsIngest(t *testing.T) {
	logs := t.TempDir()
	raw, err := os.ReadFile(mixedFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, "good.json"), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(logs, "broken.json"), raw[:200], 0o644); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(t.TempDir(), "store")
	code, out, stderr := runCLI(t, "analyze", "--store", st, "--no-progress", "--logs", logs, "--principal", "benjamin")
	var docs map[string][]policygen.Document
	if code != 0 || json.Unmarshal([]byte(out), &docs) != nil || len(docs[benjamin]) != 1 {
		t.Fatalf("exit %d: %s\n%s", code, stderr, out)
	}
	for _, w := range []string{"\nrecords  *7\n", "\nproblems:\n", regexp.QuoteMeta(filepath.Join(logs, "broken.json")) + `: invalid JSON \(expected ':' at byte 200\)`} {
		if !regexp.MustCompile(w).MatchString(stderr) {
			t.Errorf("stderr lacks %q:\n%s", w, stderr)
		}
	}
	code, _, stderr = runCLI(t, "analyze", "--store", st, "--principal", "benjamin", "--endpoint-url", "http://127.0.0.1:9000")
	if code != exitUsage || !strings.Contains(stderr, "--endpoint-url applies to --logs") {
		t.Errorf("--endpoint-url without --logs: exit %d, %q", code, stderr)
	}
}

// TestAnalyzeIAMPaths: a role named by name only, whose path the logs do
// not show, is granted at the root and under any path; --gaad names its
// path.
func TestAnalyzeIAMPaths(t *testing.T) {
	if _, err := catalog.Load(); err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
	logs := t.TempDir()
	r := ingesttest.NewRecord("e-1", "2026-11-01T10:00:00Z", "alice", "iam.amazonaws.com", "GetRole")
	r["requestParameters"] = map[string]any{"roleName": "deploy"}
	ingesttest.WriteFile(t, logs, ingesttest.Key("111122223333", "us-east-1", "2026/11/01", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, r)))
	gaad := filepath.Join(t.TempDir(), "gaad.json")
	if err := os.WriteFile(gaad, []byte(`{"UserDetailList":[],"GroupDetailList":[],"Policies":[],"RoleDetailList":[
	  {"Path":"/ci/","RoleName":"deploy","RoleId":"AROAEXAMPLE","Arn":"arn:aws:iam::111122223333:role/ci/deploy",
	   "CreateDate":"2026-01-01T00:00:00Z","InstanceProfileList":[],"RolePolicyList":[],"AttachedManagedPolicies":[]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	st := filepath.Join(t.TempDir(), "store")
	resources := func(args ...string) []string {
		t.Helper()
		code, out, stderr := runCLI(t, append([]string{"analyze", "--store", st, "--principal", "alice", "--resources", "exact"}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, stderr)
		}
		var docs map[string][]policygen.Document // --format policy: principal ARN → its policies
		if err := json.Unmarshal([]byte(out), &docs); err != nil {
			t.Fatal(err)
		}
		for _, doc := range docs {
			for _, s := range doc {
				for _, s := range s.Statement {
					if slices.Contains(s.Action, "iam:GetRole") {
						return s.Resource
					}
				}
			}
		}
		t.Fatalf("no iam:GetRole in %s", out)
		return nil
	}
	if got, want := resources("--logs", logs), []string{"arn:aws:iam::111122223333:role/*/deploy", "arn:aws:iam::111122223333:role/deploy"}; !slices.Equal(got, want) {
		t.Errorf("without the state: %q, want %q", got, want)
	}
	if got, want := resources("--gaad", gaad), []string{"arn:aws:iam::111122223333:role/ci/deploy"}; !slices.Equal(got, want) {
		t.Errorf("with --gaad: %q, want %q", got, want)
	}
	for _, bad := range [][]string{{"--gaad", filepath.Join(t.TempDir(), "missing.json")}, {"--gaad", gaad, "--snapshot", gaad}} {
		if code, _, stderr := runCLI(t, append([]string{"analyze", "--store", st, "--principal", "alice"}, bad...)...); code != 2 || !strings.Contains(stderr, "--") {
			t.Errorf("%v: exit %d, want 2: %s", bad, code, stderr)
		}
	}
}
