package policygen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/store"
)

// The verification of issue 24: for every principal of real logs, the
// policy generated in each resource mode allows every successful call, as
// judged by an evaluator that knows the resources AWS authorises a call
// against, not only the ones the mapping wrote:
//
//   - every resource the mapping derived, a pattern it wrote being checked
//     on a concrete name it stands for (instance/* on instance/zzprobe);
//   - for a call authorised on several resources (actionmap.AuthorisedOn),
//     each resource the call is always checked against, a resource of that
//     type (in the call's region and account) standing in when the mapping
//     derived none;
//   - for any other action with required resource types, one resource of
//     those types;
//   - an IAM user, group, role, policy or instance profile named without
//     its path: the ARN with the path the logs show anywhere (a regular
//     expression over every record, independent of the product's path
//     learning), or, when no record shows it, the name under the root path
//     and under a deeper one, since the policy must work for either.
//
// A call is allowed only when the generated policies allow every one of
// these (iampolicy.Evaluator.AllowedAll).

// verifyCorpus is a set of real logs, ingested.
type verifyCorpus struct {
	name string
	st   *store.Store
	recs []ingesttest.DevRecord
	from time.Time
}

// sampleCorpus is the bundled sample (testdata/sample), which a fresh
// clone has.
func sampleCorpus(t *testing.T) verifyCorpus {
	dir := filepath.Join("..", "testdata", "sample")
	var recs []ingesttest.DevRecord
	for i, r := range rawRecords(t, dir) {
		recs = append(recs, ingesttest.DevRecord{Where: "testdata/sample", Index: i, Rec: r})
	}
	return verifyCorpus{name: "sample", st: ingestDir(t, dir), recs: recs}
}

// devCorpus is every record of the real logs (ingesttest.DevRecords),
// written out as delivered log files and ingested. Records are made
// ingestible without changing what they say of the call: each gets a
// unique eventID (rule-test samples reuse "1"), and a record whose time is
// missing or redacted gets @timestamp (Logstash exports) or a fixed time.
func devCorpus(t *testing.T) verifyCorpus {
	dev := ingesttest.DevRecords(t)
	dir := t.TempDir()
	byFile := map[string][]ingesttest.Record{}
	var files []string
	var recs []ingesttest.DevRecord
	for i, d := range dev {
		dec := json.NewDecoder(strings.NewReader(d.Rec.Raw))
		dec.UseNumber()
		var m ingesttest.Record
		if err := dec.Decode(&m); err != nil {
			continue
		}
		m["eventID"] = fmt.Sprintf("00000000-0000-4000-8000-%012d", i)
		if _, err := time.Parse(time.RFC3339, d.Rec.Get("eventTime").Str); err != nil {
			when := "2024-01-01T00:00:00Z"
			if ts, err := time.Parse(time.RFC3339, d.Rec.Get("@timestamp").Str); err == nil {
				when = ts.UTC().Format(time.RFC3339)
			}
			m["eventTime"] = when
		}
		raw, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := byFile[d.Where]; !ok {
			files = append(files, d.Where)
		}
		byFile[d.Where] = append(byFile[d.Where], m)
		recs = append(recs, ingesttest.DevRecord{Where: d.Where, Index: d.Index, Rec: gjson.ParseBytes(raw)})
	}
	for n, f := range files {
		ingesttest.WriteFile(t, dir, ingesttest.Key("111111111111", "us-east-1", "2024/01/01", n),
			ingesttest.Gzip(t, ingesttest.LogJSON(t, byFile[f]...)))
	}
	return verifyCorpus{name: "dev", st: ingestDir(t, dir), recs: recs, from: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// iamTruth is every IAM entity ARN the records show anywhere, by
// partition, account, kind and name: the paths a test knows. A name seen
// with two different paths (sanitised samples reuse names) is ambiguous:
// "".
type iamTruth map[string]string

var iamARN = regexp.MustCompile(`arn:(aws[a-z-]*):iam::(\d{12}):(user|role|group|policy|instance-profile)/([^"\s,*?]+)`)

func learnTruth(recs []ingesttest.DevRecord) iamTruth {
	t := iamTruth{}
	for _, r := range recs {
		raw := r.Rec.Raw
		// A Create call that gives the path names the entity's ARN too.
		req := r.Rec.Get("requestParameters")
		path := req.Get("path").Str
		if path == "" && strings.HasPrefix(r.Rec.Get("eventName").Str, "Create") && r.Rec.Get("errorCode").Str == "" {
			path = "/" // IAM creates an entity at the root unless the request gives a path
		}
		if path != "" && r.Rec.Get("eventSource").Str == "iam.amazonaws.com" {
			acct := r.Rec.Get("recipientAccountId").Str
			for kind, key := range map[string]string{"user": "userName", "role": "roleName", "group": "groupName", "instance-profile": "instanceProfileName", "policy": "policyName"} {
				if n := req.Get(key).Str; n != "" && acct != "" {
					raw += " arn:aws:iam::" + acct + ":" + kind + path + n
				}
			}
		}
		for _, m := range iamARN.FindAllStringSubmatch(raw, -1) {
			rest := m[4]
			name := rest[strings.LastIndexByte(rest, '/')+1:]
			if name == "" {
				continue
			}
			k := m[1] + ":" + m[2] + ":" + m[3] + ":" + name
			if old, ok := t[k]; ok && old != m[0] {
				t[k] = ""
				continue
			}
			t[k] = m[0]
		}
	}
	return t
}

// iamNamed splits an IAM entity ARN written without a path
// (arn:aws:iam::1:user/NAME) or with any path (user/*/NAME) into its
// truth key.
func iamNamed(arn string) (key string, ok bool) {
	m := iamARN.FindStringSubmatch(strings.ReplaceAll(arn, "/*/", "/"))
	if m == nil || m[0] != strings.ReplaceAll(arn, "/*/", "/") || strings.Contains(m[4], "/") {
		return "", false
	}
	return m[1] + ":" + m[2] + ":" + m[3] + ":" + m[4], true
}

// probe turns a resource the mapping wrote into a concrete ARN it stands
// for: IAM's escapes ${*} ${?} ${$} become the literal character, a
// wildcard becomes a name.
func probe(p string) string {
	var b strings.Builder
	for i := 0; i < len(p); {
		switch {
		case strings.HasPrefix(p[i:], "${*}"), strings.HasPrefix(p[i:], "${?}"), strings.HasPrefix(p[i:], "${$}"):
			b.WriteByte(p[i+2])
			i += 4
			continue
		case p[i] == '*':
			b.WriteString("zzprobe")
		case p[i] == '?':
			b.WriteByte('z')
		default:
			b.WriteByte(p[i])
		}
		i++
	}
	return b.String()
}

// typeProbe is a resource of the action's type in the call's region and
// account, built from the catalogue's ARN format.
func typeProbe(cat *catalog.Catalog, action, typ, partition, region, account string) string {
	svc, _, _ := strings.Cut(action, ":")
	s, ok := cat.Service(svc)
	if !ok || s.ResourceTypes[typ] == nil || len(s.ResourceTypes[typ].ARNFormats) == 0 {
		return ""
	}
	var b strings.Builder
	for _, p := range catalog.FormatParts(s.ResourceTypes[typ].ARNFormats[0]) {
		switch p.Var {
		case "":
			b.WriteString(p.Literal)
		case "Partition":
			b.WriteString(partition)
		case "Region":
			b.WriteString(region)
		case "Account", "AccountId":
			b.WriteString(account)
		default:
			b.WriteString("zzprobe")
		}
	}
	return b.String()
}

func fitsType(cat *catalog.Catalog, action, typ, arn string) bool {
	svc, _, _ := strings.Cut(action, ":")
	s, ok := cat.Service(svc)
	return ok && s.ResourceTypes[typ] != nil && s.ResourceTypes[typ].Matches(arn)
}

// authorisedResources lists the resources the evaluator checks one action
// of a call against ("*" when the mapping could not derive the resource:
// the policy must then grant every resource).
func authorisedResources(cat *catalog.Catalog, truth iamTruth, c *actionmap.Call, a actionmap.Action) []string {
	ca, ok := cat.Action(a.Name)
	if !ok || len(ca.Resources) == 0 || len(a.Resources) == 0 {
		return []string{"*"}
	}
	var out []string
	seen := map[string]bool{}
	add := func(r string) {
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	for _, r := range a.Resources {
		if k, ok := iamNamed(r); ok {
			arn, known := truth[k]
			switch {
			case known && arn == "":
				add(probe(r)) // ambiguous: as written
			case known:
				add(arn)
			default:
				add(probe(strings.ReplaceAll(r, "/*/", "/")))
				// any path: one the test makes up
				head, name := r[:strings.LastIndexByte(r, '/')], r[strings.LastIndexByte(r, '/')+1:]
				add(strings.TrimSuffix(head, "/*") + "/zzprobe/path/" + name)
			}
			continue
		}
		add(probe(r))
	}
	groups := actionmap.AuthorisedOn(ca.FullName())
	if groups == nil {
		var req []string
		for _, r := range ca.Resources {
			if r.Required {
				req = append(req, r.Type)
			}
		}
		if len(req) > 0 {
			groups = []actionmap.ResourceGroup{{Types: req}}
		}
	}
	partition := actionmap.Partition(c.UserIdentityARN, c.AWSRegion)
	account := c.RecipientAccount
	if account == "" {
		account = c.PrincipalAccount
	}
	for _, g := range groups {
		if g.Named {
			continue
		}
		filled := false
		for _, r := range out {
			for _, typ := range g.Types {
				if fitsType(cat, ca.FullName(), typ, r) {
					filled = true
				}
			}
		}
		if !filled {
			add(typeProbe(cat, ca.FullName(), g.Types[0], partition, c.AWSRegion, account))
		}
	}
	return out
}

// verifyFigures count what the verification found in one resource mode.
type verifyFigures struct {
	principals, principalsOK int
	calls, callsOK           int
	failures                 []string
}

func (f verifyFigures) String() string {
	return fmt.Sprintf("%d of %d successful calls allowed; %d of %d principals with every call allowed",
		f.callsOK, f.calls, f.principalsOK, f.principals)
}

// verify generates every principal's policy in each mode and checks every
// successful call of the records against it.
func verify(t *testing.T, c verifyCorpus, modes []string) map[string]verifyFigures {
	cat, plain := realCatalog(t)
	// as iamlens analyze does: the paths the dataset shows, learned while
	// reading, given to the mapper
	paths := actionmap.NewPaths()
	m := plain.WithPaths(paths)
	usages, _, err := analyzer.Analyze(context.Background(), c.st, analyzer.Query{Principals: []string{"*"}, From: c.from}, m, analyzer.Options{Paths: paths})
	if err != nil {
		t.Fatal(err)
	}
	byARN := map[string]*analyzer.Usage{}
	for _, u := range usages {
		byARN[u.Principal] = u
	}
	truth := learnTruth(c.recs)
	type check struct {
		principal, name string
		actions         []string
		resources       [][]string
	}
	var checks []check
	for _, r := range c.recs {
		if r.Rec.Get("errorCode").Str != "" {
			continue
		}
		p := cloudtrail.ResolveRecord(r.Rec).ARN
		if p == "" {
			continue
		}
		call := actionmap.CallFromRecord(r.Rec)
		mr := m.Map(&call)
		if mr.Status != actionmap.Mapped {
			continue
		}
		ck := check{principal: p, name: r.Name() + " " + call.EventSource + ":" + call.EventName}
		for _, a := range mr.Actions {
			ck.actions = append(ck.actions, a.Name)
			ck.resources = append(ck.resources, authorisedResources(cat, truth, &call, a))
		}
		checks = append(checks, ck)
	}
	out := map[string]verifyFigures{}
	for _, mode := range modes {
		evals := map[string]*iampolicy.Evaluator{}
		for _, u := range usages {
			res, err := Generate(u, cat, Options{Resources: mode})
			if err != nil {
				t.Fatal(err)
			}
			evals[u.Principal] = parseDocs(t, res.Policies).e
		}
		var f verifyFigures
		bad := map[string]bool{}
		seen := map[string]bool{}
		for _, ck := range checks {
			f.calls++
			seen[ck.principal] = true
			ev := evals[ck.principal]
			ok := ev != nil
			var why []string
			if ev == nil {
				why = append(why, "no policy for the principal")
			}
			for i, a := range ck.actions {
				if ev == nil {
					break
				}
				if r := ev.AllowedAll(a, ck.resources[i]); r.Decision != iampolicy.Allowed {
					ok = false
					why = append(why, a+" on "+r.Resource)
				}
			}
			if ok {
				f.callsOK++
				continue
			}
			bad[ck.principal] = true
			f.failures = append(f.failures, fmt.Sprintf("%s %s: %s", mode, ck.name, strings.Join(why, "; ")))
		}
		f.principals = len(seen)
		f.principalsOK = len(seen) - len(bad)
		sort.Strings(f.failures)
		out[mode] = f
	}
	return out
}

var allModes = []string{ResourcesExact, ResourcesPrefix, ResourcesService}

// TestVerifySample runs the verification on the bundled sample, which a
// fresh clone has.
func TestVerifySample(t *testing.T) {
	c := sampleCorpus(t)
	reportVerify(t, c, verify(t, c, allModes))
}

// TestVerifyDev runs the verification on every real log under the shared
// data's cloudtrail/dev.
func TestVerifyDev(t *testing.T) {
	c := devCorpus(t)
	reportVerify(t, c, verify(t, c, allModes))
}

func reportVerify(t *testing.T, c verifyCorpus, figs map[string]verifyFigures) {
	t.Helper()
	var b bytes.Buffer
	for _, mode := range allModes {
		f := figs[mode]
		fmt.Fprintf(&b, "%s %s: %s\n", c.name, mode, f)
		for _, x := range f.failures {
			t.Log("not allowed:", x)
		}
	}
	t.Log("\n" + b.String())
	for _, mode := range allModes {
		if f := figs[mode]; f.callsOK != f.calls {
			t.Errorf("%s %s: %s", c.name, mode, f)
		}
		if figs[mode].calls < 100 {
			t.Errorf("%s %s: only %d calls checked", c.name, mode, figs[mode].calls)
		}
	}
}
