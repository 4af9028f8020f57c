package cis

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestReadCLIFolderRealOutputs reads a folder made of the AWS CLI's own
// example outputs under the script's file names.
func TestReadCLIFolderRealOutputs(t *testing.T) {
	s, err := ReadCLIFolder(filepath.Join("..", "..", "testdata", "cis", "cli-folder"))
	if err != nil {
		t.Fatal(err)
	}
	if s.AccountID != "123456789012" || !s.CollectedAt.Equal(time.Date(2016, 1, 29, 0, 0, 0, 0, time.UTC)) || s.Partition != "aws" {
		t.Errorf("account %s at %v (%s)", s.AccountID, s.CollectedAt, s.Partition)
	}
	us := s.Regions["us-east-1"]
	if us == nil || us.DescribeTrails == nil || len(us.DescribeTrails.TrailList) != 2 {
		t.Fatalf("us-east-1: %+v", us)
	}
	trail1 := "arn:aws:cloudtrail:us-east-1:123456789012:trail/Trail1"
	if st := us.TrailStatus[trail1]; st == nil || !st.IsLogging || us.EventSelectors[trail1] == nil {
		t.Errorf("Trail1 status %+v", st)
	}
	if s.IAM.PasswordPolicy == nil || s.IAM.PasswordPolicy.PasswordPolicy != nil {
		t.Errorf("NoSuchEntity is an account without a password policy: %+v", s.IAM.PasswordPolicy)
	}
	if s.IAM.AuthorizationDetails == nil || len(s.IAM.AuthorizationDetails.RoleDetailList) == 0 {
		t.Error("GAAD not read")
	}
	if len(s.Errors) != 1 || s.Errors[0].Service != "ec2" || s.Errors[0].Operation != "DescribeSecurityGroups" || !strings.Contains(s.Errors[0].Message, "UnauthorizedOperation") {
		t.Errorf("errors: %+v", s.Errors)
	}
	r, err := Evaluate(s, Options{Benchmark: V150, Now: farFuture})
	if err != nil {
		t.Fatal(err)
	}
	st := controlStatus(r)
	// Trail1 delivered to CloudWatch Logs at 2016-01-28T23:02:24Z: within a
	// day of the folder's time, whatever today is. Trail2 does not deliver.
	for id, want := range map[string]Status{"iam-password-min-length": Fail, "cloudtrail-cloudwatch-logs": Fail, "ec2-sg-no-world-admin-ports-ipv4": NotAssessable, "cloudtrail-log-validation": Fail} {
		if st[id] != want {
			t.Errorf("%s: %s, want %s", id, st[id], want)
		}
	}
	for _, f := range findings(r, "cloudtrail-cloudwatch-logs") {
		if strings.HasSuffix(f.Resource, "Trail1") && f.Status != Pass {
			t.Errorf("Trail1 judged at the folder's time: %s %s", f.Status, f.Evidence)
		}
	}
	for _, f := range findings(r, "ec2-sg-no-world-admin-ports-ipv4") {
		if !strings.Contains(f.Evidence, "UnauthorizedOperation") {
			t.Errorf("evidence: %s", f.Evidence)
		}
	}
}

// TestCLIFolderRoundTrip: a snapshot written as a folder reads back into
// the same report.
func TestCLIFolderRoundTrip(t *testing.T) {
	for _, name := range []string{"pass", "fail", "clock"} {
		s := loadSnapshot(t, name)
		dir := t.TempDir()
		if err := WriteCLIFolder(dir, s); err != nil {
			t.Fatal(err)
		}
		back, err := ReadCLIFolder(dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, b := range Benchmarks {
			a, c := evaluate(t, s, b), evaluate(t, back, b)
			if ja, jc := mustJSON(t, a.Controls), mustJSON(t, c.Controls); ja != jc {
				t.Errorf("%s %s: the folder gives another report", name, b)
			}
		}
	}
}

func TestReadCLIFolderRefuses(t *testing.T) {
	dir := t.TempDir()
	if _, err := ReadCLIFolder(dir); err == nil || !strings.Contains(err.Error(), "no global/ folder") {
		t.Errorf("empty folder: %v", err)
	}
	os.MkdirAll(filepath.Join(dir, "global"), 0o755)
	if _, err := ReadCLIFolder(dir); err == nil || !strings.Contains(err.Error(), "sts-get-caller-identity.json is missing") {
		t.Errorf("no identity: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "global", "sts-get-caller-identity.json"), []byte(`{"Account":"111122223333","Arn":"arn:aws:iam::111122223333:user/x"}`), 0o644)
	if _, err := ReadCLIFolder(dir); err == nil || !strings.Contains(err.Error(), "no collection time") {
		t.Errorf("no time: %v", err)
	}
	os.WriteFile(filepath.Join(dir, "global", CollectedAtFile), []byte("2026-11-20T12:00:00Z\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "global", "iam-get-account-summary.json"), []byte(`{"SummaryMap": `), 0o644)
	if _, err := ReadCLIFolder(dir); err == nil || !strings.Contains(err.Error(), "1 files could not be read: global/iam-get-account-summary.json") {
		t.Errorf("a broken file: %v", err)
	}
}

// TestPrintCLIScript: the script parses, names exactly the files the
// reader reads, and runs only read calls.
func TestPrintCLIScript(t *testing.T) {
	var buf bytes.Buffer
	if err := PrintCLI(&buf, nil); err != nil {
		t.Fatal(err)
	}
	script := buf.String()
	if bash, err := exec.LookPath("bash"); err == nil {
		cmd := exec.Command(bash, "-n")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("bash -n: %v: %s", err, out)
		}
	}
	// Every file the round trip writes is one the script writes.
	dir := t.TempDir()
	if err := WriteCLIFolder(dir, loadSnapshot(t, "pass")); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			n := strings.TrimSuffix(info.Name(), ".json")
			n, _, _ = strings.Cut(n, "__")
			names[n] = true
		}
		return nil
	})
	for n := range names {
		if n == strings.TrimSuffix(CollectedAtFile, ".txt")+".txt" {
			continue
		}
		if !strings.Contains(script, `"`+n) && !strings.Contains(script, " "+n+" ") {
			t.Errorf("the reader reads %s, which the script never writes", n)
		}
	}
	// Only reads (and generate-credential-report).
	re := regexp.MustCompile(`(?m)^\s*run "\$[A-Z]+" "?[^ ]+ ([a-z0-9]+) ([a-z][a-z0-9-]+)|\baws ([a-z0-9]+) ([a-z][a-z0-9-]+)`)
	calls := 0
	for _, m := range re.FindAllStringSubmatch(script, -1) {
		if m[1] == "" {
			m = []string{m[0], m[3], m[4]}
		}
		calls++
		op := m[2]
		if !(strings.HasPrefix(op, "get-") || strings.HasPrefix(op, "list-") || strings.HasPrefix(op, "describe-") || op == "generate-credential-report") {
			t.Errorf("aws %s %s is not a read", m[1], op)
		}
	}
	if calls < 30 {
		t.Errorf("%d calls found in the script", calls)
	}
	buf.Reset()
	PrintCLI(&buf, []string{"eu-west-1", "us-east-1"})
	if !strings.Contains(buf.String(), `REGIONS="eu-west-1 us-east-1"`) {
		t.Error("regions not set")
	}
}
