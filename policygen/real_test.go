package policygen

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/ingesttest/dataset"
	"github.com/iamlens/iamlens/ingest/store"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/analyze/golden")

// realCatalog returns the embedded catalogue and mapper, or skips the test
// while they are not built.
func realCatalog(t testing.TB) (*catalog.Catalog, *actionmap.Mapper) {
	t.Helper()
	cat, err := catalog.Load()
	if err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
	return cat, actionmap.New(cat)
}

func ingestDir(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, _ := dataset.Ingest(t, dir, ingest.Options{Workers: 2})
	return st
}

// rawRecords reads every record of the real logs with encoding/json and
// gjson, independently of the store.
func rawRecords(t *testing.T, dir string) []gjson.Result {
	t.Helper()
	var out []gjson.Result
	ingesttest.LogFiles(t, dir, func(p string, b []byte) {
		var file struct{ Records []json.RawMessage }
		if err := json.Unmarshal(b, &file); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range file.Records {
			out = append(out, gjson.ParseBytes(r))
		}
	})
	return out
}

// TestRealPrincipals generates the policy of every principal of the real
// invictus-ir logs and checks it: it parses, every action is in the
// catalogue, every ARN fits its action, and every successful call in the
// logs (read again from the JSON, mapped on its own) is allowed.
func TestRealPrincipals(t *testing.T) {
	cat, m := realCatalog(t)
	dir := ingesttest.Invictus(t)
	st := ingestDir(t, dir)
	usages, _, err := analyzer.Analyze(context.Background(), st, analyzer.Query{Principals: []string{"*"}}, m, analyzer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := rawRecords(t, dir)
	successes := map[string]int64{}
	principals := map[string]bool{}
	for _, r := range recs {
		p := cloudtrail.ResolveRecord(r).ARN
		if p != "" {
			principals[p] = true
		}
		if p != "" && r.Get("errorCode").Str == "" {
			successes[p]++
		}
	}
	if len(usages) != len(principals) {
		t.Fatalf("%d principals analysed, the logs name %d", len(usages), len(principals))
	}
	for _, mode := range []string{ResourcesExact, ResourcesPrefix, ResourcesService} {
		results := map[string]evaluator{}
		for _, u := range usages {
			if u.Origins.Calls != successes[u.Principal] {
				t.Errorf("%s: %d successful calls, the logs hold %d", u.Principal, u.Origins.Calls, successes[u.Principal])
			}
			res, err := Generate(u, cat, Options{Resources: mode, ConditionRegion: true})
			if err != nil {
				t.Fatal(err)
			}
			checkFits(t, res, cat)
			if len(res.Rejected) > 0 {
				t.Errorf("%s %s: rejected %+v", mode, u.Principal, res.Rejected)
			}
			results[u.Principal] = parseDocs(t, res.Policies)
		}
		checked := 0
		for _, r := range recs {
			if r.Get("errorCode").Str != "" {
				continue
			}
			p := cloudtrail.ResolveRecord(r).ARN
			if p == "" {
				continue
			}
			call := actionmap.CallFromRecord(r)
			mr := m.Map(&call)
			if mr.Status != actionmap.Mapped {
				continue
			}
			ev, ok := results[p]
			if !ok {
				t.Fatalf("no policy for %s", p)
			}
			ctx := map[string]string{"aws:RequestedRegion": call.AWSRegion}
			for _, a := range mr.Actions {
				res := a.Resources
				if len(res) == 0 {
					res = []string{"*"}
				}
				for _, arn := range res {
					checked++
					if !ev.allows(a.Name, arn, ctx) {
						t.Errorf("%s %s: %s on %s (%s:%s) is not allowed", mode, p, a.Name, arn, call.EventSource, call.EventName)
					}
				}
			}
		}
		if checked < 1000 {
			t.Errorf("%s: only %d action/resource pairs checked", mode, checked)
		}
		t.Logf("%s: %d principals, %d successful action/resource pairs allowed", mode, len(usages), checked)
	}
}

// goldenPrincipals are the real principals whose outputs are kept as golden
// files.
var goldenPrincipals = []string{"benjamin", "stratus-red-team-ec2-steal-credentials-role", "stratus-red-team-ec2-enumerate-role"}

func TestGolden(t *testing.T) {
	cat, m := realCatalog(t)
	st := ingestDir(t, filepath.Join("..", "testdata", "sample"))
	for _, name := range goldenPrincipals {
		t.Run(name, func(t *testing.T) {
			paths := actionmap.NewPaths() // as iamlens analyze does
			us, _, err := analyzer.Analyze(context.Background(), st, analyzer.Query{Principals: []string{name}}, m.WithPaths(paths), analyzer.Options{Paths: paths})
			if err != nil {
				t.Fatal(err)
			}
			res, err := Generate(us[0], cat, Options{})
			if err != nil {
				t.Fatal(err)
			}
			rs := []*Result{res}
			for ext, write := range map[string]func(io.Writer, []*Result) error{
				"policy.json": WritePolicy, "tf": WriteTerraform, "txt": WriteTable, "cfn.yaml": WriteCloudFormation,
			} {
				var b bytes.Buffer
				if err := write(&b, rs); err != nil {
					t.Fatal(err)
				}
				path := filepath.Join("..", "testdata", "analyze", "golden", name+"."+ext)
				if *update {
					if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./policygen -run TestGolden -update)", err)
				}
				if !bytes.Equal(b.Bytes(), want) {
					t.Errorf("%s differs from the golden file; if the change is intended, run go test ./policygen -run TestGolden -update\ngot:\n%s", path, b.String())
				}
			}
		})
	}
}

// TestSyntheticCorpus writes a CloudTrail corpus with a known ground truth
// (which IAM action and ARN each call needs), ingests it, and checks the
// exact-mode policy through the real mapper: every successful call is
// allowed, and no action or resource outside the truth is, nor any denied
// call.
func TestSyntheticCorpus(t *testing.T) {
	cat, m := realCatalog(t)
	const acct = "111122223333"
	type call struct {
		source, name string
		req          map[string]any
		action, arn  string // the truth; arn "*" for no resource-level restriction
		category     string
	}
	var calls []call
	for i := 0; i < 6; i++ {
		b := fmt.Sprintf("bucket-%d", i%3)
		calls = append(calls,
			call{"s3.amazonaws.com", "GetBucketAcl", map[string]any{"bucketName": b}, "s3:GetBucketAcl", "arn:aws:s3:::" + b, ""},
			call{"s3.amazonaws.com", "GetObject", map[string]any{"bucketName": b, "key": fmt.Sprintf("data/%d/obj.json", i)}, "s3:GetObject", fmt.Sprintf("arn:aws:s3:::%s/data/%d/obj.json", b, i), "Data"},
			call{"iam.amazonaws.com", "GetRole", map[string]any{"roleName": fmt.Sprintf("role-%d", i%2)}, "iam:GetRole", fmt.Sprintf("arn:aws:iam::%s:role/role-%d", acct, i%2), ""},
			call{"lambda.amazonaws.com", "GetFunction20150331v2", map[string]any{"functionName": fmt.Sprintf("fn-%d", i%4)}, "lambda:GetFunction", fmt.Sprintf("arn:aws:lambda:us-east-1:%s:function:fn-%d", acct, i%4), ""},
			call{"ec2.amazonaws.com", "DescribeInstances", map[string]any{}, "ec2:DescribeInstances", "*", ""},
		)
	}
	denied := call{"iam.amazonaws.com", "ListUsers", map[string]any{}, "iam:ListUsers", "*", ""}
	var recs []ingesttest.Record
	for i, c := range append(calls, denied) {
		r := ingesttest.NewRecord(fmt.Sprintf("ev-%03d", i), fmt.Sprintf("2026-11-01T10:%02d:00Z", i), "alice", c.source, c.name)
		r["requestParameters"] = c.req
		if c.category != "" {
			r["eventCategory"], r["managementEvent"] = c.category, false
		}
		if i == len(calls) { // the denied call
			r["errorCode"], r["errorMessage"] = "AccessDenied", "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: iam:ListUsers"
		}
		recs = append(recs, r)
	}
	dir := t.TempDir()
	ingesttest.WriteFile(t, dir, ingesttest.Key(acct, "us-east-1", "2026/11/01", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
	st := ingestDir(t, dir)
	us, _, err := analyzer.Analyze(context.Background(), st, analyzer.Query{Principals: []string{"alice"}}, m, analyzer.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := Generate(us[0], cat, Options{Resources: ResourcesExact})
	if err != nil {
		t.Fatal(err)
	}
	checkFits(t, res, cat)
	if testing.Verbose() {
		_ = WriteTable(os.Stderr, []*Result{res})
	}
	ev := parseDocs(t, res.Policies)
	truth := map[string]map[string]bool{}
	var arns []string
	for _, c := range calls {
		if truth[c.action] == nil {
			truth[c.action] = map[string]bool{}
		}
		truth[c.action][c.arn] = true
		arns = append(arns, c.arn)
	}
	arns = append(arns, "arn:aws:s3:::bucket-9", "arn:aws:s3:::bucket-0/data/9/obj.json", "arn:aws:iam::111122223333:role/role-7",
		"arn:aws:lambda:us-east-1:111122223333:function:fn-9")
	actions := []string{"iam:ListUsers", "s3:PutObject", "s3:DeleteObject", "lambda:InvokeFunction", "iam:PassRole"}
	for a := range truth {
		actions = append(actions, a)
	}
	for _, a := range actions {
		for _, r := range arns {
			want := truth[a][r] || truth[a]["*"]
			if got := ev.allows(a, r, nil); got != want {
				t.Errorf("allows(%s, %s) = %v, want %v", a, r, got, want)
			}
		}
	}
	if len(us[0].Denied) != 1 || us[0].Denied[0].Action != "iam:ListUsers" {
		t.Errorf("denied: %+v", us[0].Denied)
	}
}
