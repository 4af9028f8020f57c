package main

import (
	"compress/gzip"
	"encoding/json"
	"os"
	"path/filepath"
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
	var doc policygen.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil || doc.Version != policygen.PolicyVersion || len(doc.Statement) == 0 {
		t.Fatalf("policy: %v\n%s", err, out)
	}

	code, out, stderr = runCLI(t, "analyze", "--store", st, "--principal", benjamin, "--format", "json", "--condition-region")
	if code != 0 {
		t.Fatalf("json: exit %d: %s", code, stderr)
	}
	var rep struct {
		Principal  string `json:"principal"`
		Conditions []struct {
			Key string `json:"key"`
		} `json:"conditions"`
		Usage struct {
			Events int64 `json:"events"`
		} `json:"usage"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatal(err)
	}
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

	// several principals: one policy per ARN
	code, out, _ = runCLI(t, "analyze", "--store", st, "--principal", "benjamin,bert-jan")
	var many map[string]json.RawMessage
	if code != 0 || json.Unmarshal([]byte(out), &many) != nil || len(many) != 2 {
		t.Errorf("two principals: exit %d\n%s", code, out)
	}
}

// sampleEventsOf counts the sample's records of the IAM user name, read
// with encoding/json.
func sampleEventsOf(t *testing.T, name string) (string, int64) {
	t.Helper()
	var n int64
	err := filepath.Walk(sampleDir, func(p string, info os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return err
		}
		var log struct {
			Records []struct {
				UserIdentity struct{ Type, UserName string } `json:"userIdentity"`
			}
		}
		if err := json.NewDecoder(zr).Decode(&log); err != nil {
			return err
		}
		for _, r := range log.Records {
			if r.UserIdentity.Type == "IAMUser" && r.UserIdentity.UserName == name {
				n++
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
		var doc policygen.Document
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		for _, s := range doc.Statement {
			if slices.Contains(s.Action, "iam:GetRole") {
				return s.Resource
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
