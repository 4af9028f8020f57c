package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/cis/collect/awsfake"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iampolicy/managed"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/policygen/policydiff"
)

const (
	sampleGAAD = "../../examples/diff/sample-gaad.json"
	samplePlan = "../../examples/diff/sample-plan.json"
	enumerate  = "arn:aws:iam::123837392027:role/stratus-red-team-ec2-enumerate-role"
)

func needCatalog(t *testing.T) {
	t.Helper()
	if _, err := catalog.Load(); err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
}

func diffReport(t *testing.T, out string) *policydiff.Report {
	t.Helper()
	var rep policydiff.Report
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	return &rep
}

func principalOf(t *testing.T, rep *policydiff.Report, arn string) *policydiff.Principal {
	t.Helper()
	for _, p := range rep.Principals {
		if p.Principal == arn {
			return p
		}
	}
	t.Fatalf("%s not compared", arn)
	return nil
}

// TestDiffSampleGAAD compares the bundled sample's principals with the
// example GAAD (examples/diff/sample-gaad.json).
func TestDiffSampleGAAD(t *testing.T) {
	needCatalog(t)
	st := sampleStore(t)
	code, out, stderr := runCLI(t, "diff", "--store", st, "--all", "--gaad", sampleGAAD, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep := diffReport(t, out)
	var got []string
	for _, p := range rep.Principals {
		got = append(got, p.Principal)
	}
	want := []string{enumerate, "arn:aws:iam::123837392027:role/stratus-red-team-ec2-steal-credentials-role",
		"arn:aws:iam::123837392027:role/stratus-red-team-get-usr-data-role", "arn:aws:iam::123837392027:user/benjamin"}
	if !slices.Equal(got, want) || !slices.Equal(rep.SourceOnly, []string{"arn:aws:iam::123837392027:role/ci-deploy"}) {
		t.Errorf("compared %q, source only %q", got, rep.SourceOnly)
	}
	// The denied calls of get-usr-data: a missing permission.
	ud := principalOf(t, rep, want[2])
	if ud.Counts.Missing != 1 || ud.UsedNotGranted[0].Action != "ec2:DescribeInstanceAttribute" || ud.UsedNotGranted[0].Kind != policydiff.KindMissing {
		t.Errorf("get-usr-data: %+v %+v", ud.Counts, ud.UsedNotGranted)
	}
	// The AWS managed policy the GAAD names by ARN only is read from the
	// embedded copy, and said so.
	en := principalOf(t, rep, enumerate)
	if len(en.Policies) != 1 || !en.Policies[0].Embedded || len(en.Notes) != 1 || en.Counts.Used != 4 {
		t.Errorf("enumerate: %+v %+v", en.Policies, en.Counts)
	}
	// benjamin: granted by his group; calls that failed after authorisation
	// (NoSuchBucketPolicy) count as used.
	b := principalOf(t, rep, "arn:aws:iam::123837392027:user/benjamin")
	var failed int64
	for _, g := range b.GrantedUsed {
		if g.Action == "s3:GetBucketPolicy" {
			failed += g.FailedCalls
			if len(g.GrantedBy) != 1 || g.GrantedBy[0] != "group auditors: inline audit, statement 0 (Audit)" {
				t.Errorf("granted by %q", g.GrantedBy)
			}
		}
	}
	if failed == 0 {
		t.Error("benjamin's s3:GetBucketPolicy calls that failed with NoSuchBucketPolicy are not counted as used")
	}
	for _, g := range b.GrantedUnused {
		if g.Action == "s3:GetBucketPolicy" {
			t.Error("s3:GetBucketPolicy listed as unused")
		}
	}

	code, md, stderr := runCLI(t, "diff", "--store", st, "--all", "--gaad", sampleGAAD, "--format", "markdown")
	if code != 0 {
		t.Fatalf("markdown: exit %d: %s", code, stderr)
	}
	checkGolden(t, "diff/sample-gaad.md", []byte(strings.ReplaceAll(md, st, "STORE")))

	// --fail-on
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--fail-on", "missing"}, exitFindings, "1 principal(s) with missing permissions: arn:aws:iam::123837392027:role/stratus-red-team-get-usr-data-role (1)"},
		{[]string{"--fail-on", "unused"}, exitFindings, "4 principal(s) with more than 0 unused grants"},
		{[]string{"--fail-on", "unused", "--max-unused", "200"}, 0, ""},
		{[]string{"--fail-on", "any", "--max-unused", "200"}, exitFindings, "missing permissions"},
	} {
		code, _, stderr := runCLI(t, append([]string{"diff", "--store", st, "--all", "--gaad", sampleGAAD, "--format", "json"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, %q; want %d and %q", c.args, code, stderr, c.code, c.msg)
		}
	}
}

// TestDiffSamplePlan: a pull request replaces a managed policy with a
// hand-written one that forgets an action the role uses.
func TestDiffSamplePlan(t *testing.T) {
	needCatalog(t)
	st := sampleStore(t)
	code, out, stderr := runCLI(t, "diff", "--store", st, "--principal", "stratus-red-team-ec2-enumerate-role", "--terraform-plan", samplePlan, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	p := principalOf(t, diffReport(t, out), enumerate)
	if p.Address != "aws_iam_role.enumerate" || len(p.Policies) != 1 || p.Policies[0].Address != "aws_iam_policy.ssm_agent" {
		t.Errorf("policies %+v (the detached AmazonSSMManagedInstanceCore must not be among them)", p.Policies)
	}
	if len(p.UsedNotGranted) != 1 || p.UsedNotGranted[0].Action != "ssm:PutComplianceItems" || p.UsedNotGranted[0].Kind != policydiff.KindGrantedElsewhere ||
		!strings.Contains(p.UsedNotGranted[0].Reason, "this plan takes away a permission in use") {
		t.Errorf("used but not granted %+v", p.UsedNotGranted)
	}
	code, md, _ := runCLI(t, "diff", "--store", st, "--principal", "stratus-red-team-ec2-enumerate-role", "--terraform-plan", samplePlan, "--format", "markdown")
	if code != 0 {
		t.Fatal(code)
	}
	checkGolden(t, "diff/sample-plan.md", []byte(strings.ReplaceAll(md, st, "STORE")))

	// SARIF: located at the plan file and the policy's resource address.
	code, sarif, _ := runCLI(t, "diff", "--store", st, "--principal", "stratus-red-team-ec2-enumerate-role", "--terraform-plan", samplePlan, "--format", "sarif")
	if code != 0 || !strings.Contains(sarif, `"uri": "`+samplePlan+`"`) || !strings.Contains(sarif, `"fullyQualifiedName": "aws_iam_policy.ssm_agent"`) {
		t.Errorf("sarif: exit %d\n%s", code, sarif)
	}
	// The plan with an account state for the managed policies it names.
	code, _, stderr = runCLI(t, "diff", "--store", st, "--principal", "stratus-red-team-ec2-enumerate-role", "--terraform-plan", samplePlan, "--gaad", sampleGAAD, "--format", "unified")
	if code != 0 {
		t.Errorf("--terraform-plan with --gaad: exit %d: %s", code, stderr)
	}
}

// realCall is a CloudTrail call and the IAM action it needs; none of
// them takes a resource, so that the test can ask the evaluator on "*".
var realCalls = []struct{ source, name, action string }{
	{"s3.amazonaws.com", "ListBuckets", "s3:ListAllMyBuckets"},
	{"ec2.amazonaws.com", "DescribeInstances", "ec2:DescribeInstances"},
	{"iam.amazonaws.com", "ListRoles", "iam:ListRoles"},
	{"iam.amazonaws.com", "ListUsers", "iam:ListUsers"},
	{"kms.amazonaws.com", "ListKeys", "kms:ListKeys"},
	{"lambda.amazonaws.com", "ListFunctions20150331", "lambda:ListFunctions"},
	{"sqs.amazonaws.com", "ListQueues", "sqs:ListQueues"},
	{"cloudtrail.amazonaws.com", "DescribeTrails", "cloudtrail:DescribeTrails"},
}

// TestDiffRealGAAD ingests CloudTrail records written for half the users
// and roles of each real get-account-authorization-details output (the
// committed copies, and ../shared's full files when present): each
// principal calls every realCall, successfully when its policies grant the
// action and denied when they do not. diff --all must find every call in
// the right place and list the other principals as without events.
func TestDiffRealGAAD(t *testing.T) {
	needCatalog(t)
	files := []string{
		"../../testdata/iamstate/cloudsplaining/example-excerpt.json",
		"../../testdata/iamstate/aws-cli/iam.get-account-authorization-details.output1.json",
	}
	if dir := sharedGAADDir(); dir != "" {
		more, _ := filepath.Glob(filepath.Join(dir, "cloudsplaining-examples-files-example.json"))
		files = append(files, more...)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			in, err := iamstate.Files{GAAD: file}.Load()
			if err != nil {
				t.Fatal(err)
			}
			acct := iamstate.Build(in)
			// cloudsplaining's files mix in ARNs of another account; the
			// state is the account most of them name.
			var arns []string
			for _, u := range acct.Users {
				if strings.Contains(u.ARN, ":"+acct.ID+":") {
					arns = append(arns, u.ARN)
				}
			}
			for _, r := range acct.Roles {
				if !r.ServiceLinked && strings.Contains(r.ARN, ":"+acct.ID+":") {
					arns = append(arns, r.ARN)
				}
			}
			slices.Sort(arns)
			type truth struct{ used, missing []string }
			want := map[string]*truth{}
			var recs []ingesttest.Record
			n := 0
			for i, arn := range arns {
				if i%2 == 1 {
					continue // no events: listed as source only
				}
				e, err := acct.EffectivePoliciesWith(arn, iamstate.EffectiveOptions{AWSManaged: func(a string) (*iampolicy.Document, bool) {
					p, err := managed.Lookup(a)
					if err != nil {
						return nil, false
					}
					return p.Document, true
				}})
				if err != nil {
					t.Fatal(err)
				}
				var set iampolicy.Set
				for _, ap := range e.Policies {
					set.Identity = append(set.Identity, iampolicy.Policy{Name: ap.Label, Document: ap.Document})
				}
				if e.Boundary != nil {
					set.Boundary = []iampolicy.Policy{{Name: "b", Document: e.Boundary.Document}}
				}
				ev, err := iampolicy.New(set, iampolicy.Options{})
				if err != nil {
					t.Fatal(err)
				}
				tr := &truth{}
				want[arn] = tr
				for _, c := range realCalls {
					n++
					r := recordFor(arn, fmt.Sprintf("ev-%05d", n), fmt.Sprintf("2026-11-03T10:%02d:%02dZ", n/60%60, n%60), c.source, c.name)
					if ev.Evaluate(iampolicy.Request{Action: c.action}).Decision.Granted() {
						tr.used = append(tr.used, c.action)
					} else {
						r["errorCode"], r["errorMessage"] = "AccessDenied", arn+" is not authorized to perform: "+c.action
						tr.missing = append(tr.missing, c.action)
					}
					recs = append(recs, r)
				}
			}
			dir := t.TempDir()
			acctID := strings.Split(arns[0], ":")[4]
			ingesttest.WriteFile(t, dir, ingesttest.Key(acctID, "us-east-1", "2026/11/03", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
			st := filepath.Join(t.TempDir(), "store")
			code, out, stderr := runCLI(t, "diff", "--store", st, "--no-progress", "--logs", dir, "--all", "--gaad", file, "--format", "json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			rep := diffReport(t, out)
			if len(rep.Principals) != len(want) {
				t.Errorf("%d principals compared, want %d", len(rep.Principals), len(want))
			}
			for arn, tr := range want {
				p := principalOf(t, rep, arn)
				var used, missing []string
				for _, g := range p.GrantedUsed {
					used = append(used, g.Action)
				}
				for _, u := range p.UsedNotGranted {
					if u.Kind == policydiff.KindMissing {
						missing = append(missing, u.Action)
					}
				}
				slices.Sort(used)
				slices.Sort(missing)
				slices.Sort(tr.used)
				slices.Sort(tr.missing)
				if !slices.Equal(used, tr.used) || !slices.Equal(missing, tr.missing) {
					t.Errorf("%s: used %q missing %q; want %q and %q", arn, used, missing, tr.used, tr.missing)
				}
				if p.Counts.Used != len(tr.used) || p.Counts.Missing != len(tr.missing) {
					t.Errorf("%s: counts %+v", arn, p.Counts)
				}
			}
			usedN, missingN := 0, 0
			for _, tr := range want {
				usedN += len(tr.used)
				missingN += len(tr.missing)
			}
			if usedN == 0 || missingN == 0 {
				t.Errorf("%d calls granted, %d denied: the file does not test both", usedN, missingN)
			}
			t.Logf("%d principals with events, %d granted calls, %d denied", len(want), usedN, missingN)
			for i, arn := range arns {
				if i%2 == 1 && !slices.Contains(rep.SourceOnly, arn) {
					t.Errorf("%s has no events but is not listed as source only", arn)
				}
			}
		})
	}
}

// recordFor writes a record of principal arn: an IAM user's call, or a
// role session's.
func recordFor(arn, id, when, source, name string) ingesttest.Record {
	parts := strings.SplitN(arn, ":", 6)
	acct, res := parts[4], parts[5]
	short := res[strings.LastIndexByte(res, '/')+1:]
	r := ingesttest.NewRecord(id, when, short, source, name)
	r["requestParameters"] = map[string]any{}
	r["recipientAccountId"] = acct
	if strings.HasPrefix(res, "user/") {
		r["userIdentity"] = map[string]any{"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": acct, "arn": arn, "userName": short, "accessKeyId": "AKIAEXAMPLE"}
		return r
	}
	r["userIdentity"] = map[string]any{"type": "AssumedRole", "principalId": "AROAEXAMPLE:session", "accountId": acct,
		"arn": "arn:aws:sts::" + acct + ":assumed-role/" + short + "/session", "accessKeyId": "ASIAEXAMPLE",
		"sessionContext": map[string]any{"sessionIssuer": map[string]any{"type": "Role", "principalId": "AROAEXAMPLE", "arn": arn, "accountId": acct, "userName": short},
			"attributes": map[string]any{"creationDate": when, "mfaAuthenticated": "false"}}}
	return r
}

// sharedGAADDir is ../shared/data/aws-outputs/gaad when present above the
// working directory, else "".
func sharedGAADDir() string {
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, "shared", "data", "aws-outputs", "gaad")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// TestDiffLive reads IAM through the real SDK from the fake IAM (Query
// protocol): alice's policies come from GAAD pages, the AWS managed
// ReadOnlyAccess her group attaches from the embedded copy.
func TestDiffLive(t *testing.T) {
	needCatalog(t)
	fake := awsfake.New(t, false)
	dir := t.TempDir()
	awsEnv(t, "AKIDEXAMPLE", "secret")

	const alice = "arn:aws:iam::111122223333:user/alice"
	var recs []ingesttest.Record
	for i, c := range realCalls[:3] {
		recs = append(recs, recordFor(alice, fmt.Sprintf("ev-%d", i), fmt.Sprintf("2026-11-19T08:0%d:00Z", i), c.source, c.name))
	}
	logs := filepath.Join(dir, "logs")
	ingesttest.WriteFile(t, logs, ingesttest.Key(awsfake.Account, "us-east-1", "2026/11/19", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	st := filepath.Join(dir, "store")
	code, out, stderr := runCLI(t, "diff", "--store", st, "--no-progress", "--logs", logs, "--all", "--live", "--endpoint-url", fake.URL(), "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep := diffReport(t, out)
	if rep.Source.Kind != policydiff.SourceLive || !strings.Contains(rep.Source.Name, "111122223333") || len(rep.Principals) != 1 ||
		!slices.Equal(rep.SourceOnly, []string{"arn:aws:iam::111122223333:role/aws-support"}) {
		t.Fatalf("report %+v", rep)
	}
	p := rep.Principals[0]
	var embedded []string
	for _, pol := range p.Policies {
		if pol.Embedded {
			embedded = append(embedded, pol.Name)
		}
	}
	if p.Principal != alice || !slices.Equal(embedded, []string{"ReadOnlyAccess"}) || p.Boundary == nil || p.Counts.Used != 3 || p.Counts.Unused < 10000 {
		t.Errorf("alice: policies %+v, boundary %v, counts %+v", p.Policies, p.Boundary, p.Counts)
	}
	if fake.Count("iam:GetAccountAuthorizationDetails:us-east-1") != 2 {
		t.Errorf("GAAD read %d times, want its two pages", fake.Count("iam:GetAccountAuthorizationDetails:us-east-1"))
	}
}

// TestDiffTwoAccounts: one GAAD file per account; each principal is
// looked up in its account's.
func TestDiffTwoAccounts(t *testing.T) {
	needCatalog(t)
	st := sampleStore(t)
	other := "../../testdata/iamstate/aws-cli/iam.get-account-authorization-details.output1.json"
	code, out, stderr := runCLI(t, "diff", "--store", st, "--all", "--gaad", other, "--gaad", sampleGAAD, "--format", "json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	rep := diffReport(t, out)
	if len(rep.Principals) != 4 || !slices.Contains(rep.SourceOnly, "arn:aws:iam::123456789012:user/Alice") ||
		!slices.Contains(rep.SourceOnly, "arn:aws:iam::123837392027:role/ci-deploy") {
		t.Errorf("%d compared, source only %q", len(rep.Principals), rep.SourceOnly)
	}
	code, _, stderr = runCLI(t, "diff", "--store", st, "--all", "--gaad", sampleGAAD, "--gaad", sampleGAAD)
	if code != exitUsage || !strings.Contains(stderr, "account 123837392027 is given twice") {
		t.Errorf("the same account twice: exit %d, %q", code, stderr)
	}
}

func TestDiffUsageErrors(t *testing.T) {
	needCatalog(t)
	st := sampleStore(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--all"}, "no source of policies"},
		{[]string{"--all", "--gaad", sampleGAAD, "--live"}, "more than one source"},
		{[]string{"--all", "--terraform-plan", samplePlan, "--policy", "x.json"}, "more than one source"},
		{[]string{"--all", "--policy", "../../examples/policies/app.json"}, "--policy and --all"},
		{[]string{"--principal", "benjamin", "--boundary", "../../examples/policies/boundary.json", "--gaad", sampleGAAD}, "--boundary goes with --policy"},
		{[]string{"--gaad", sampleGAAD}, "give --principal or --all"},
		{[]string{"--all", "--gaad", sampleGAAD, "--fail-on", "some"}, "--fail-on must be"},
		{[]string{"--all", "--gaad", sampleGAAD, "--format", "html"}, "--format must be"},
		{[]string{"--principal", "bert-jan", "--gaad", sampleGAAD}, "not in GAAD"},
		{[]string{"--principal", "benjamn", "--gaad", sampleGAAD}, "Did you mean"},
	} {
		code, _, stderr := runCLI(t, append([]string{"diff", "--store", st}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", c.args, code, stderr, c.want)
		}
	}
	// A file that is not a plan is an error, not a crash.
	code, _, stderr := runCLI(t, "diff", "--store", st, "--all", "--terraform-plan", sampleGAAD)
	if code != exitError || !strings.Contains(stderr, "not the JSON of a Terraform plan") {
		t.Errorf("not a plan: exit %d, %q", code, stderr)
	}
}

// TestWorkflowExample keeps examples/github-actions/iamlens-diff.yml in
// step with the command: it is valid YAML, every iamlens diff line in it
// parses with diff's flags, and its script finds the comment by the
// marker the markdown starts with.
func TestWorkflowExample(t *testing.T) {
	raw, err := os.ReadFile("../../examples/github-actions/iamlens-diff.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Steps []struct {
				Name string            `yaml:"name"`
				Run  string            `yaml:"run"`
				With map[string]string `yaml:"with"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	diffs, marker := 0, false
	for _, job := range wf.Jobs {
		for _, st := range job.Steps {
			if strings.Contains(st.With["script"], "'"+policydiff.Marker+"'") {
				marker = true
			}
			script := strings.ReplaceAll(st.Run, "\\\n", " ")
			for _, line := range strings.Split(script, "\n") {
				line = strings.TrimSpace(line)
				if !strings.HasPrefix(line, "iamlens diff ") {
					continue
				}
				line, _, _ = strings.Cut(line, ">")
				var args []string
				for _, f := range strings.Fields(line)[2:] {
					args = append(args, strings.Trim(f, `"`))
				}
				cmd := newDiffCmd(&cmdEnv{}, &globalOptions{})
				cmd.Flags().Bool("no-progress", false, "")
				if err := cmd.ParseFlags(args); err != nil {
					t.Errorf("%q: %v", line, err)
				}
				if f, _ := cmd.Flags().GetString("terraform-plan"); f == "" {
					t.Errorf("%q does not read the plan", line)
				}
				diffs++
			}
		}
	}
	if diffs < 2 || !marker {
		t.Errorf("%d iamlens diff lines, marker found %v", diffs, marker)
	}
}

// TestDiffPlanFixtures runs diff --all on the Terraform plan fixtures
// against records written for some of their principals: a new role of the
// plan (no ARN until apply) is matched by name and is not listed as
// without events; a role whose name is unknown until apply is listed by
// its address.
func TestDiffPlanFixtures(t *testing.T) {
	needCatalog(t)
	const acct = "111122223333"
	deploy := "arn:aws:iam::" + acct + ":role/deploy"
	orders := "arn:aws:iam::" + acct + ":role/svc-orders"
	recs := []ingesttest.Record{
		recordFor(deploy, "ev-1", "2026-11-03T10:00:00Z", "s3.amazonaws.com", "ListBuckets"),
		recordFor(orders, "ev-2", "2026-11-03T10:01:00Z", "ec2.amazonaws.com", "DescribeInstances"),
	}
	dir := t.TempDir()
	ingesttest.WriteFile(t, dir, ingesttest.Key(acct, "us-east-1", "2026/11/03", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	st := filepath.Join(t.TempDir(), "store")
	for _, c := range []struct {
		plan, compared string
		sourceOnly     []string
	}{
		{"basic.json", deploy, []string{"arn:aws:iam::111122223333:user/ci/ci-bot"}},
		{"modules.json", orders, []string{"arn:aws:iam::111122223333:user/alice", "role (name unknown until apply) (module.ci.aws_iam_role.this)",
			`role svc-billing (module.service["billing"].aws_iam_role.this)`, "role worker-0 (aws_iam_role.worker[0])", "role worker-1 (aws_iam_role.worker[1])"}},
	} {
		code, out, stderr := runCLI(t, "diff", "--store", st, "--no-progress", "--logs", dir, "--all", "--terraform-plan", "../../testdata/diff/tfplan/"+c.plan, "--format", "json")
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", c.plan, code, stderr)
		}
		rep := diffReport(t, out)
		if len(rep.Principals) != 1 || rep.Principals[0].Principal != c.compared || !slices.Equal(rep.SourceOnly, c.sourceOnly) {
			t.Errorf("%s: compared %d, source only %q", c.plan, len(rep.Principals), rep.SourceOnly)
		}
	}
}

// TestDiffAllReadsRollup: diff --all reads every principal's usage from the
// usage rollup, not the events: with every events file of the store
// overwritten by zeros, its report is the same, and --from with a time of
// day (which the rollup's whole days cannot answer) then fails on the
// events.
func TestDiffAllReadsRollup(t *testing.T) {
	needCatalog(t)
	st := sampleStore(t)
	args := func(store string, more ...string) []string {
		return append([]string{"diff", "--store", store, "--all", "--gaad", sampleGAAD, "--format", "json"}, more...)
	}
	code, want, stderr := runCLI(t, args(st)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if n := len(diffReport(t, want).Principals); n < 3 {
		t.Fatalf("only %d principals compared", n)
	}
	zeroed := 0
	err := filepath.WalkDir(filepath.Join(st, "events"), func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		zeroed++
		return os.WriteFile(p, make([]byte, fi.Size()), 0o600)
	})
	if err != nil || zeroed == 0 {
		t.Fatalf("zeroed %d events files: %v", zeroed, err)
	}
	code, got, stderr := runCLI(t, args(st)...)
	if code != 0 {
		t.Fatalf("without the events: exit %d: %s", code, stderr)
	}
	if got != want {
		t.Errorf("without the events the report differs %s", firstLineDiff(want, got))
	}
	if code, _, stderr := runCLI(t, args(st, "--from", "2023-07-10T12:00:00Z")...); code == 0 || !strings.Contains(stderr, "/events/") {
		t.Errorf("a window inside a day: exit %d, %s; want a failure reading the zeroed events", code, stderr)
	}
}

func firstLineDiff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return fmt.Sprintf("at line %d:\n%s\n%s", i+1, al[i], bl[i])
		}
	}
	return fmt.Sprintf("in length: %d and %d lines", len(al), len(bl))
}
