package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/explain"
)

// fakeMapper answers deterministically from the Call alone, so the golden
// files test the record → Call conversion and the rendering, not the
// catalogue.
type fakeMapper struct{}

func (fakeMapper) Map(c *actionmap.Call) actionmap.Result {
	switch {
	case c.EventType != "AwsApiCall":
		return actionmap.Result{Status: actionmap.NotAPICall, Reason: "fake: " + c.EventType + " is not an API call"}
	case c.EventName == "AssumeRoleWithWebIdentity":
		return actionmap.Result{Status: actionmap.NoPermission, Reason: "fake: the role's trust policy decides"}
	}
	a := actionmap.Action{Name: strings.TrimSuffix(c.EventSource, ".amazonaws.com") + ":" + c.EventName}
	for _, r := range c.Resources {
		a.Resources = append(a.Resources, r.ARN)
	}
	if len(a.Resources) == 0 {
		a.ResourceNote = "fake: the record lists no resources"
	}
	r := actionmap.Result{Status: actionmap.Mapped, Actions: []actionmap.Action{a}}
	if c.RequestParameters != "" && gjson.Get(c.RequestParameters, "keyId").Exists() {
		r.NotObservable = []string{"fake:" + gjson.Get(c.RequestParameters, "keyId").Str}
	}
	return r
}

// echoMapper puts the whole Call in Reason, so two ways of building a Call
// can be compared through explain's output.
type echoMapper struct{}

func (echoMapper) Map(c *actionmap.Call) actionmap.Result {
	b, _ := json.Marshal(c)
	return actionmap.Result{Status: actionmap.Unmapped, Reason: string(b)}
}

func runExplainWith(t *testing.T, m explain.Mapper, o explainOptions) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	o.Stdout, o.Stderr, o.Mapper = &out, &errb, m
	if o.Format == "" {
		o.Format = "table"
	}
	if o.MaxFileMB == 0 {
		o.MaxFileMB = 256
	}
	err := runExplain(context.Background(), &o)
	return out.String(), errb.String(), err
}

const mixedFile = "../../testdata/explain/mixed.json"

func TestExplainGolden(t *testing.T) {
	for _, format := range []string{"table", "json"} {
		t.Run(format, func(t *testing.T) {
			out, _, err := runExplainWith(t, fakeMapper{}, explainOptions{Inputs: []string{mixedFile}, Format: format})
			if err != nil {
				t.Fatal(err)
			}
			ext := map[string]string{"table": "table", "json": "jsonl"}[format]
			checkGolden(t, "explain/mixed."+ext+".golden", []byte(out))
		})
	}
}

// TestExplainJSONLines checks the JSON lines against the fixture, read
// independently with encoding/json.
func TestExplainJSONLines(t *testing.T) {
	out, _, err := runExplainWith(t, fakeMapper{}, explainOptions{Inputs: []string{mixedFile}, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(mixedFile)
	if err != nil {
		t.Fatal(err)
	}
	var log struct {
		Records []struct {
			EventID     string `json:"eventID"`
			EventSource string `json:"eventSource"`
			EventName   string `json:"eventName"`
			Resources   []struct {
				ARN string `json:"ARN"`
			} `json:"resources"`
		}
	}
	if err := json.Unmarshal(raw, &log); err != nil {
		t.Fatal(err)
	}
	var got []explain.Explanation
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var e explain.Explanation
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		got = append(got, e)
	}
	if len(got) != len(log.Records) {
		t.Fatalf("%d lines for %d records", len(got), len(log.Records))
	}
	for i, r := range log.Records {
		e := got[i]
		if e.EventID != r.EventID || e.Event != r.EventSource+":"+r.EventName || e.Principal == "" || e.Status == "" {
			t.Errorf("line %d: %+v does not describe %s %s:%s", i, e, r.EventID, r.EventSource, r.EventName)
		}
		if e.Status == string(actionmap.Mapped) {
			var want []string
			for _, res := range r.Resources {
				want = append(want, res.ARN)
			}
			if want == nil {
				want = []string{}
			}
			if len(e.Actions) != 1 || !reflect.DeepEqual(e.Actions[0].Resources, want) {
				t.Errorf("%s: actions %+v, want resources %q", r.EventID, e.Actions, want)
			}
		} else if e.Reason == "" {
			t.Errorf("%s: status %s without a reason", r.EventID, e.Status)
		}
	}
}

func TestExplainFilters(t *testing.T) {
	out, stderr, err := runExplainWith(t, fakeMapper{}, explainOptions{
		Inputs: []string{mixedFile}, Format: "json",
		Principals: []string{"arn:aws:iam::123837392027:user/bert-jan"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(out, "\n"); n != 2 { // GenerateDataKey, CheckMfa
		t.Errorf("--principal bert-jan: %d records\n%s%s", n, out, stderr)
	}
	out, _, err = runExplainWith(t, fakeMapper{}, explainOptions{
		Inputs: []string{mixedFile}, EventIDs: []string{"3bcc9d61-5936-429a-8b49-d5cb8e7b0e06"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "AWSServiceRoleForAmazonInspector2 (service-linked-role), invoked by inspector2.amazonaws.com") {
		t.Errorf("--event-id: %s", out)
	}
	out, stderr, err = runExplainWith(t, fakeMapper{}, explainOptions{Inputs: []string{mixedFile}, EventIDs: []string{"nope"}})
	if err != nil || out != "" || !strings.Contains(stderr, "no records match") {
		t.Errorf("no match: %v %q %q", err, out, stderr)
	}
}

// TestExplainDatasetMatchesFiles explains the sample twice, from the log
// files and from the dataset after ingest, and checks that every record gets
// the same principal and the same actionmap.Call both ways (which tests
// analyzer.UsageRow.Call against actionmap.CallFromRecord over 2,900 real
// records).
func TestExplainDatasetMatchesFiles(t *testing.T) {
	st := sampleStore(t)
	fromFiles, _, err := runExplainWith(t, echoMapper{}, explainOptions{Inputs: []string{sampleDir}, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	fromStore, _, err := runExplainWith(t, echoMapper{}, explainOptions{Store: st, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	parse := func(s string) map[string]explain.Explanation {
		m := map[string]explain.Explanation{}
		sc := bufio.NewScanner(strings.NewReader(s))
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		for sc.Scan() {
			var e explain.Explanation
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatal(err)
			}
			e.Source = ""
			m[e.EventID] = e
		}
		return m
	}
	a, b := parse(fromFiles), parse(fromStore)
	total, _ := sampleRecords(t)
	if len(a) != total || len(b) != total {
		t.Fatalf("files gave %d records, the dataset %d, the sample has %d", len(a), len(b), total)
	}
	diffs := 0
	for id, ea := range a {
		if eb := b[id]; !reflect.DeepEqual(ea, eb) {
			diffs++
			if diffs <= 3 {
				t.Errorf("%s differs:\nfile    %+v\ndataset %+v", id, ea, eb)
			}
		}
	}
	if diffs > 0 {
		t.Errorf("%d of %d records differ", diffs, total)
	}
}

func TestCallFromRecord(t *testing.T) {
	raw, err := os.ReadFile(mixedFile)
	if err != nil {
		t.Fatal(err)
	}
	rec := gjson.GetBytes(raw, `Records.#(eventID=="bEXAMPLE-0b30-4246-b28c-e3da3EXAMPLE")`)
	got := actionmap.CallFromRecord(rec)
	want := actionmap.Call{
		EventSource: "sts.amazonaws.com", EventName: "AssumeRoleWithWebIdentity", EventType: "AwsApiCall",
		EventCategory: "Management", AWSRegion: "us-east-1", RecipientAccount: "123456789012",
		RequestParameters: rec.Get("requestParameters").Raw,
		Resources:         []actionmap.Resource{{ARN: "arn:aws:iam::123456789012:role/FederatedWebIdentityRole", Type: "AWS::IAM::Role", AccountID: "123456789012"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
	if !gjson.Valid(got.RequestParameters) || gjson.Get(got.RequestParameters, "roleSessionName").Str != "MyAssignedRoleSessionName" {
		t.Errorf("request parameters %q", got.RequestParameters)
	}
	if c := actionmap.CallFromRecord(gjson.Parse(`{"eventName":"X","requestParameters":null}`)); c.RequestParameters != "" || c.Resources != nil {
		t.Errorf("null request parameters: %+v", c)
	}
}

// TestExplainNeedsCatalog: when the IAM catalogue does not load, explain
// says so and exits 1.
func TestExplainNeedsCatalog(t *testing.T) {
	var out, errb bytes.Buffer
	env := &cmdEnv{Stdout: &out, Stderr: &errb, Now: time.Now,
		LoadCatalog: func() (*catalog.Catalog, error) { return nil, errors.New("catalog.txt.gz: unexpected EOF") }}
	code := runEnv(context.Background(), env, []string{"explain", mixedFile})
	if code != exitError || !strings.Contains(errb.String(), "explain needs the IAM catalogue, which did not load: catalog.txt.gz: unexpected EOF") || out.Len() != 0 {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
}

// TestExplainRealMapper runs explain with the real catalogue and mapper.
func TestExplainRealMapper(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Skipf("catalogue not available yet: %v", err)
	}
	code, out, stderr := runCLI(t, "explain", "--format", "json", mixedFile)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	sc := bufio.NewScanner(strings.NewReader(out))
	seen := map[string]explain.Explanation{}
	for sc.Scan() {
		var e explain.Explanation
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		seen[e.EventID] = e
		switch actionmap.Status(e.Status) {
		case actionmap.Mapped:
			for _, a := range e.Actions {
				if _, ok := cat.Action(a.Action); !ok {
					t.Errorf("%s: %s is not in the catalogue", e.EventID, a.Action)
				}
			}
		case actionmap.NoPermission, actionmap.NotAPICall, actionmap.Unmapped:
			if e.Reason == "" {
				t.Errorf("%s: %s without a reason", e.EventID, e.Status)
			}
		default:
			t.Errorf("%s: unknown status %q", e.EventID, e.Status)
		}
	}
	if e := seen["3c856bc0-1a07-4c18-89d9-4d9205856714"]; e.Status != string(actionmap.Mapped) || len(e.Actions) == 0 || e.Actions[0].Action != "s3:GetBucketPublicAccessBlock" {
		t.Errorf("GetBucketPublicAccessBlock: %+v", e)
	}
	if e := seen["895dc875-cb08-45a5-b8c2-9158838741c0"]; e.Status != string(actionmap.NotAPICall) {
		t.Errorf("AwsServiceEvent: %+v", e)
	}
}

// TestExplainMistakes: a principal nobody matches exits 2 with close
// names, from files and from the dataset; a bad file in a folder is named
// and counted on stderr; - reads standard input.
func TestExplainMistakes(t *testing.T) {
	code, _, stderr := runCLI(t, "explain", "--principal", "bert-jn", mixedFile)
	if code != exitUsage || !strings.Contains(stderr, `no records of principal "bert-jn" in `+mixedFile) ||
		!strings.Contains(stderr, "Did you mean:\n  arn:aws:iam::123837392027:user/bert-jan") {
		t.Errorf("files: exit %d, %q", code, stderr)
	}
	st := sampleStore(t)
	code, _, stderr = runCLI(t, "explain", "--store", st, "--principal", "benjamn")
	if code != exitUsage || !strings.Contains(stderr, "Did you mean:\n  arn:aws:iam::123837392027:user/benjamin") {
		t.Errorf("dataset: exit %d, %q", code, stderr)
	}
	code, out, _ := runCLI(t, "explain", "--store", st, "--principal", "benj*", "--format", "json")
	if _, n := sampleEventsOf(t, "benjamin"); code != 0 || int64(strings.Count(out, "\n")) != n {
		t.Errorf("glob on the dataset: exit %d, %d lines, want %d", code, strings.Count(out, "\n"), n)
	}

	dir := t.TempDir()
	raw, err := os.ReadFile(mixedFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/good.json", raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir+"/bad.json", raw[:100], 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr = runCLI(t, "explain", "--format", "json", dir)
	if code != 0 || strings.Count(out, "\n") != 7 || !strings.Contains(stderr, "bad.json: invalid JSON") ||
		!strings.Contains(stderr, "1 file could not be read and was skipped") {
		t.Errorf("bad file in a folder: exit %d, %d lines, %q", code, strings.Count(out, "\n"), stderr)
	}

	var o, e bytes.Buffer
	env := &cmdEnv{Stdin: bytes.NewReader(raw), Stdout: &o, Stderr: &e, Now: time.Now, LoadCatalog: catalog.Load}
	if code := runEnv(context.Background(), env, []string{"explain", "--format", "json", "-"}); code != 0 || strings.Count(o.String(), "\n") != 7 ||
		!strings.Contains(o.String(), `"source":"(standard input)"`) {
		t.Errorf("stdin: exit %d, %s %s", code, o.String(), e.String())
	}
}

// TestExplainTableWidth: at a terminal, a call's many resources are
// listed one a line, at most five, saying how many more the JSON holds.
func TestExplainTableWidth(t *testing.T) {
	var out, errb bytes.Buffer
	var arns []string
	for i := 0; i < 8; i++ {
		arns = append(arns, fmt.Sprintf("arn:aws:s3:::bucket/key-%d", i))
	}
	o := explainOptions{Inputs: []string{mixedFile}, EventIDs: []string{"3c856bc0-1a07-4c18-89d9-4d9205856714"}, Format: "table", MaxFileMB: 256,
		Stdout: &out, Stderr: &errb, Width: 100,
		Mapper: mapperFunc(func(c *actionmap.Call) actionmap.Result {
			return actionmap.Result{Status: actionmap.Mapped, Actions: []actionmap.Action{{Name: "s3:GetObject", Resources: arns}}}
		})}
	if err := runExplain(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if !strings.Contains(got, "action     s3:GetObject  arn:aws:s3:::bucket/key-0\n") || !strings.Contains(got, "\n             arn:aws:s3:::bucket/key-4\n") ||
		strings.Contains(got, "key-5") || !strings.Contains(got, "… +3 more (--format json lists all)") {
		t.Errorf("table:\n%s", got)
	}
}

type mapperFunc func(c *actionmap.Call) actionmap.Result

func (f mapperFunc) Map(c *actionmap.Call) actionmap.Result { return f(c) }
