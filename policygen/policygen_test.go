package policygen

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/catalog"
)

// fakeCatalog is a func-typed stand-in for the IAM catalogue: each action
// has the regular expressions of the ARNs it accepts (none: no
// resource-level restriction). Wildcards in an ARN are probed as 'x', as
// the real catalogue does.
type fakeCatalog map[string][]*regexp.Regexp

func (f fakeCatalog) Action(full string) (*catalog.Action, bool) {
	for k, res := range f {
		if strings.EqualFold(k, full) {
			svc, name, _ := strings.Cut(k, ":")
			a := &catalog.Action{Service: svc, Name: name}
			for i := range res {
				a.Resources = append(a.Resources, catalog.ActionResource{Type: fmt.Sprint("t", i)})
			}
			return a, true
		}
	}
	return nil, false
}

func (f fakeCatalog) MatchesResource(full, arn string) bool {
	a, ok := f.Action(full)
	if !ok {
		return false
	}
	res := f[a.FullName()]
	if arn == "*" {
		return len(res) == 0
	}
	probe := strings.NewReplacer("*", "x", "?", "x").Replace(arn)
	for _, re := range res {
		if re.MatchString(probe) {
			return true
		}
	}
	return false
}

var (
	reBucket   = regexp.MustCompile(`^arn:aws:s3:::[^/:]+$`)
	reObject   = regexp.MustCompile(`^arn:aws:s3:::[^/:]+/.+$`)
	reFunction = regexp.MustCompile(`^arn:aws:lambda:[^:]*:[^:]*:function:[^:/]+$`)
	reRole     = regexp.MustCompile(`^arn:aws:iam::[^:]*:role/.+$`)
	reTable    = regexp.MustCompile(`^arn:aws:dynamodb:[^:]*:[^:]*:table/[^/]+$`)
)

func testCatalog() fakeCatalog {
	return fakeCatalog{
		"s3:GetObject":           {reObject},
		"s3:PutObject":           {reObject},
		"s3:DeleteObject":        {reObject},
		"s3:GetBucketAcl":        {reBucket},
		"s3:ListBucket":          {reBucket},
		"s3:ListAllMyBuckets":    nil,
		"lambda:GetFunction":     {reFunction},
		"lambda:InvokeFunction":  {reFunction},
		"iam:GetRole":            {reRole},
		"iam:PassRole":           {reRole},
		"iam:ListRoles":          nil,
		"dynamodb:DescribeTable": {reTable},
		"dynamodb:GetItem":       {reTable},
		"ec2:DescribeInstances":  nil,
	}
}

var t0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

func au(action string, calls int64, arns ...string) *analyzer.ActionUsage {
	a := &analyzer.ActionUsage{Action: action, Calls: calls, FirstSeen: t0, LastSeen: t0.Add(time.Hour),
		Events: []string{"x.amazonaws.com:" + action}, Regions: []string{"us-east-1"}}
	for _, r := range arns {
		a.Resources = append(a.Resources, analyzer.ResourceUsage{ARN: r, Calls: 1, FirstSeen: t0, LastSeen: t0})
	}
	return a
}

func usage(allowed ...*analyzer.ActionUsage) *analyzer.Usage {
	var n int64
	for _, a := range allowed {
		n += a.Calls
	}
	return &analyzer.Usage{Principal: "arn:aws:iam::111122223333:role/app", Kind: "role", Events: n,
		FirstSeen: t0, LastSeen: t0.Add(time.Hour), Allowed: allowed,
		Origins: analyzer.Origins{Calls: n, SourceIPs: []analyzer.Count{{Value: "198.51.100.7", Count: n}}}}
}

// truth is a synthetic ground truth: action → resources it was used on.
type truth map[string][]string

func randomTruth(r *rand.Rand) truth {
	tr := truth{}
	pick := func(n int, f func(i int) string) []string {
		var out []string
		for i := 0; i < n; i++ {
			out = append(out, f(r.IntN(1000)))
		}
		return out
	}
	tr["s3:GetObject"] = pick(1+r.IntN(30), func(i int) string {
		return fmt.Sprintf("arn:aws:s3:::data-%d/logs/%d/%02d/f%d.gz", i%3, 2020+i%4, i%12, i)
	})
	tr["s3:PutObject"] = pick(1+r.IntN(5), func(i int) string { return fmt.Sprintf("arn:aws:s3:::out-%d/r/%d.json", i%2, i) })
	tr["s3:GetBucketAcl"] = pick(1+r.IntN(8), func(i int) string { return fmt.Sprintf("arn:aws:s3:::bucket-%d", i) })
	tr["lambda:GetFunction"] = pick(1+r.IntN(12), func(i int) string {
		return fmt.Sprintf("arn:aws:lambda:us-east-1:111122223333:function:svc-%d-prod", i)
	})
	tr["iam:GetRole"] = pick(1+r.IntN(6), func(i int) string { return fmt.Sprintf("arn:aws:iam::111122223333:role/team/r%d", i) })
	tr["dynamodb:DescribeTable"] = pick(1+r.IntN(4), func(i int) string {
		return fmt.Sprintf("arn:aws:dynamodb:eu-west-%d:111122223333:table/t%d", 1+i%3, i)
	})
	tr["s3:ListAllMyBuckets"] = []string{"*"}
	tr["ec2:DescribeInstances"] = []string{"*"}
	for k, v := range tr {
		tr[k] = uniqueSorted(v)
	}
	return tr
}

func (tr truth) usage() *analyzer.Usage {
	var acts []*analyzer.ActionUsage
	for a, rs := range tr {
		acts = append(acts, au(a, int64(len(rs)), rs...))
	}
	sort.Slice(acts, func(i, j int) bool { return acts[i].Action < acts[j].Action })
	return usage(acts...)
}

// TestSyntheticTruth generates usages with a known truth: in every mode
// every call of the truth is allowed; in exact mode nothing else is: no
// other action, no resource of the truth under another action, no sibling
// resource.
func TestSyntheticTruth(t *testing.T) {
	cat := testCatalog()
	for seed := uint64(1); seed <= 40; seed++ {
		tr := randomTruth(rand.New(rand.NewPCG(seed, 7)))
		u := tr.usage()
		u.Denied = []*analyzer.ActionUsage{au("iam:PassRole", 2, "arn:aws:iam::111122223333:role/admin"), au("dynamodb:GetItem", 1, "arn:aws:dynamodb:eu-west-1:111122223333:table/t1")}
		for _, mode := range []string{ResourcesExact, ResourcesPrefix, ResourcesService} {
			res, err := Generate(u, cat, Options{Resources: mode})
			if err != nil {
				t.Fatal(err)
			}
			ev := parseDocs(t, res.Policies)
			for a, rs := range tr {
				for _, r := range rs {
					if !ev.allows(a, r, nil) {
						t.Fatalf("seed %d %s: %s on %s not allowed", seed, mode, a, r)
					}
				}
			}
			for _, d := range u.Denied {
				if ev.allows(d.Action, d.Resources[0].ARN, nil) {
					t.Errorf("seed %d %s: denied %s is allowed", seed, mode, d.Action)
				}
			}
			checkFits(t, res, cat)
			if mode != ResourcesExact {
				continue
			}
			var all []string
			for _, rs := range tr {
				all = append(all, rs...)
			}
			all = append(all, "arn:aws:s3:::data-0/logs/1999/01/other.gz", "arn:aws:s3:::bucket-zzz",
				"arn:aws:lambda:us-east-1:111122223333:function:svc-x-prod", "arn:aws:iam::111122223333:role/team/other")
			for a := range cat {
				for _, r := range all {
					want := contains(tr[a], r) || (len(tr[a]) == 1 && tr[a][0] == "*")
					if got := ev.allows(a, r, nil); got != want {
						t.Fatalf("seed %d exact: allows(%s, %s) = %v, want %v", seed, a, r, got, want)
					}
				}
			}
		}
	}
}

// checkFits asserts the contract of every statement: each action is in the
// catalogue, each resource fits it, "*" only with a reason.
func checkFits(t *testing.T, res *Result, cat Catalog) {
	t.Helper()
	for pi, d := range res.Policies {
		if n := Chars(d); n > ManagedPolicyLimit {
			t.Errorf("policy %d has %d characters", pi, n)
		}
		for _, s := range d.Statement {
			if !sort.StringsAreSorted(s.Action) {
				t.Errorf("%s: actions not sorted: %v", s.Sid, s.Action)
			}
			for _, a := range s.Action {
				if _, ok := cat.Action(a); !ok {
					t.Errorf("%s: %s not in catalogue", s.Sid, a)
				}
				for _, r := range s.Resource {
					if r == "*" {
						continue
					}
					if !cat.MatchesResource(a, r) {
						t.Errorf("%s: %s does not fit %s", s.Sid, r, a)
					}
				}
			}
		}
	}
	for _, e := range res.Evidence {
		for _, r := range e.Resources {
			if r.Resource == "*" && r.Why == "" {
				t.Errorf("%s: * without a reason", e.Sid)
			}
		}
	}
}

func TestPrefixMode(t *testing.T) {
	cat := testCatalog()
	objs := []string{
		"arn:aws:s3:::logs/app/2026/11/01/a.gz", "arn:aws:s3:::logs/app/2026/11/02/b.gz",
		"arn:aws:s3:::logs/app/2026/11/03/c.gz", "arn:aws:s3:::logs/app/2026/11/04/d.gz",
	}
	fns := []string{
		"arn:aws:lambda:us-east-1:111122223333:function:orders-a-prod",
		"arn:aws:lambda:us-east-1:111122223333:function:orders-b-prod",
		"arn:aws:lambda:us-east-1:111122223333:function:orders-c-prod",
		"arn:aws:lambda:us-east-1:111122223333:function:orders-d-prod",
	}
	buckets := []string{"arn:aws:s3:::alpha", "arn:aws:s3:::beta", "arn:aws:s3:::gamma", "arn:aws:s3:::delta"}
	few := []string{"arn:aws:iam::111122223333:role/a", "arn:aws:iam::111122223333:role/b"}
	u := usage(au("s3:GetObject", 4, objs...), au("lambda:GetFunction", 4, fns...), au("s3:GetBucketAcl", 4, buckets...), au("iam:GetRole", 2, few...))
	res, err := Generate(u, cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, s := range res.Policies[0].Statement {
		for _, a := range s.Action {
			got[a] = s.Resource
		}
	}
	want := map[string][]string{
		"s3:GetObject":       {"arn:aws:s3:::logs/app/2026/11/*"},
		"lambda:GetFunction": {"arn:aws:lambda:us-east-1:111122223333:function:orders-*-prod"},
		// the names share nothing: a bare "*" would be broader than needed
		"s3:GetBucketAcl": buckets,
		"iam:GetRole":     few, // not over CollapseAt
	}
	sort.Strings(want["s3:GetBucketAcl"])
	for a, w := range want {
		if fmt.Sprint(got[a]) != fmt.Sprint(w) {
			t.Errorf("%s: got %v, want %v", a, got[a], w)
		}
	}
	// the report says what each pattern stands for
	for _, e := range res.Evidence {
		for _, r := range e.Resources {
			if strings.Contains(r.Resource, "*") && (r.Count != 4 || len(r.StandsFor) != 4 || r.Why == "") {
				t.Errorf("%s: evidence %+v", r.Resource, r)
			}
		}
	}
}

func TestCollapseKeysBound(t *testing.T) {
	var keys []string
	for i := 0; i < 50; i++ {
		keys = append(keys, fmt.Sprintf("d%d/e%d/f%d", i%5, i%10, i))
	}
	for _, tc := range []struct {
		k    int
		want []string
	}{
		{3, []string{"*"}},
		{5, []string{"d0/*", "d1/*", "d2/*", "d3/*", "d4/*"}},
		{10, []string{"d0/e0/*", "d0/e5/*", "d1/e1/*", "d1/e6/*", "d2/e2/*", "d2/e7/*", "d3/e3/*", "d3/e8/*", "d4/e4/*", "d4/e9/*"}},
	} {
		var got []string
		for _, g := range collapseKeys(keys, tc.k) {
			got = append(got, g.pattern)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("k=%d: got %v, want %v", tc.k, got, tc.want)
		}
	}
}

func TestCommonGlob(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want string
	}{
		{[]string{"svc-a-prod", "svc-bb-prod"}, "svc-*-prod"},
		{[]string{"abc", "abd"}, "ab*"},
		{[]string{"x", "y"}, "*"},
		{[]string{"aa", "aaa"}, "aa*"},
	} {
		if got := commonGlob(c.in); got != c.want {
			t.Errorf("commonGlob(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestMaxResourcesBound(t *testing.T) {
	var roles []string
	for i := 0; i < 45; i++ {
		roles = append(roles, fmt.Sprintf("arn:aws:iam::111122223333:role/r%c%d", 'a'+rune(i%26), i))
	}
	res, err := Generate(usage(au("iam:GetRole", 45, roles...)), testCatalog(), Options{Resources: ResourcesExact, MaxResources: 20})
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, s := range res.Policies[0].Statement {
		if len(s.Resource) > 20 {
			t.Errorf("%s has %d resources", s.Sid, len(s.Resource))
		}
		n += len(s.Resource)
	}
	if n != 45 {
		t.Errorf("exact mode wrote %d resources, want 45", n)
	}
}

func TestStarOnlyWithReason(t *testing.T) {
	cat := testCatalog()
	unknown := au("lambda:GetFunction", 3, "arn:aws:lambda:us-east-1:111122223333:function:f")
	unknown.UnknownResourceCalls = 2
	u := usage(au("iam:ListRoles", 1, "*"), unknown, au("no:SuchAction", 1), au("iam:GetRole", 1, "arn:aws:s3:::not-a-role"))
	res, err := Generate(u, cat, Options{})
	if err != nil {
		t.Fatal(err)
	}
	whys := map[string]string{}
	for _, e := range res.Evidence {
		for _, a := range e.Actions {
			whys[a.Action] = a.Wildcard
		}
	}
	// one resource set, one statement, whatever the reasons for "*"
	if n := len(res.Policies[0].Statement); n != 1 {
		t.Errorf("%d statements for one resource set", n)
	}
	if whys["iam:ListRoles"] != WhyNoResourceLevel {
		t.Errorf("ListRoles: %q", whys["iam:ListRoles"])
	}
	if !strings.HasPrefix(whys["lambda:GetFunction"], WhyUnknownResource) {
		t.Errorf("GetFunction: %q", whys["lambda:GetFunction"])
	}
	if whys["iam:GetRole"] != WhyNoFit {
		t.Errorf("GetRole: %q", whys["iam:GetRole"])
	}
	if len(res.Rejected) != 2 || res.Rejected[0].Action != "no:SuchAction" || res.Rejected[1].Resource != "arn:aws:s3:::not-a-role" {
		t.Errorf("rejected: %+v", res.Rejected)
	}
}

func TestConditions(t *testing.T) {
	cat := testCatalog()
	a1 := au("lambda:GetFunction", 3, "arn:aws:lambda:eu-west-1:111122223333:function:f")
	a1.Regions = []string{"eu-west-1"}
	a2 := au("iam:GetRole", 2, "arn:aws:iam::111122223333:role/r")
	u := usage(a1, a2)
	u.Origins = analyzer.Origins{Calls: 5, SourceIPs: []analyzer.Count{{Value: "198.51.100.7", Count: 4}, {Value: "203.0.113.9", Count: 1}},
		VPCEndpoints: []analyzer.Count{{Value: "vpce-1", Count: 5}}, MFA: 5}
	res, err := Generate(u, cat, Options{ConditionRegion: true, ConditionSource: SourceIP, ConditionMFA: true})
	if err != nil {
		t.Fatal(err)
	}
	ev := parseDocs(t, res.Policies)
	ctx := func(region, ip string) map[string]string {
		return map[string]string{"aws:RequestedRegion": region, "aws:SourceIp": ip, "aws:MultiFactorAuthPresent": "true"}
	}
	if !ev.allows("lambda:GetFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f", ctx("eu-west-1", "198.51.100.7")) {
		t.Error("observed call denied")
	}
	if ev.allows("lambda:GetFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f", ctx("us-east-1", "198.51.100.7")) {
		t.Error("other region allowed")
	}
	if ev.allows("iam:GetRole", "arn:aws:iam::111122223333:role/r", ctx("us-east-1", "192.0.2.1")) {
		t.Error("other source IP allowed")
	}
	if len(res.Conditions) != 3 {
		t.Errorf("conditions: %+v", res.Conditions)
	}

	// a call through an AWS service or without a VPC endpoint, or without MFA, blocks the condition
	u.Origins = analyzer.Origins{Calls: 5, ViaService: 1, NoVPCE: 2, MFA: 4}
	for _, src := range []string{SourceIP, SourceVPCE} {
		res, err = Generate(u, cat, Options{ConditionSource: src, ConditionMFA: true})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range res.Policies[0].Statement {
			if s.Condition != nil {
				t.Errorf("%s: unexpected condition %v", src, s.Condition)
			}
		}
		if len(res.ConditionsSkipped) != 2 {
			t.Errorf("%s: skipped %+v", src, res.ConditionsSkipped)
		}
	}
}

func TestSourceCIDRsWiden(t *testing.T) {
	var ips []analyzer.Count
	for i := 0; i < 30; i++ {
		ips = append(ips, analyzer.Count{Value: fmt.Sprintf("10.0.%d.%d", i%3, i), Count: 1})
	}
	got, _, ok := sourceCIDRs(ips, 10)
	if !ok || fmt.Sprint(got) != "[10.0.0.0/24 10.0.1.0/24 10.0.2.0/24]" {
		t.Errorf("got %v %v", got, ok)
	}
}

func TestSizeLimitSplit(t *testing.T) {
	cat := testCatalog()
	var acts []*analyzer.ActionUsage
	for _, a := range []string{"s3:GetObject", "s3:PutObject", "s3:DeleteObject"} {
		var objs []string
		for i := 0; i < 150; i++ {
			objs = append(objs, fmt.Sprintf("arn:aws:s3:::bucket-%s-%d/some/rather/long/path/%d.json", strings.ToLower(a[3:6]), i, i))
		}
		acts = append(acts, au(a, 150, objs...))
	}
	u := usage(acts...)
	res, err := Generate(u, cat, Options{Resources: ResourcesExact})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) < 2 || !strings.HasPrefix(res.SizeNote, "split") {
		t.Fatalf("%d policies, note %q", len(res.Policies), res.SizeNote)
	}
	checkFits(t, res, cat)
	ev := parseDocs(t, res.Policies)
	for _, a := range acts {
		for _, r := range a.Resources {
			if !ev.allows(a.Action, r.ARN, nil) {
				t.Fatalf("%s %s not allowed after the split", a.Action, r.ARN)
			}
		}
	}
	sids := map[string]bool{}
	for _, e := range res.Evidence {
		if sids[fmt.Sprint(e.Policy, e.Sid)] {
			t.Errorf("duplicate sid %s", e.Sid)
		}
		sids[fmt.Sprint(e.Policy, e.Sid)] = true
	}

	res, err = Generate(u, cat, Options{Resources: ResourcesExact, Size: SizeCompact})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 1 || !strings.HasPrefix(res.SizeNote, "compacted") || res.Mode != ResourcesService {
		t.Fatalf("compact: %d policies, mode %s, note %q", len(res.Policies), res.Mode, res.SizeNote)
	}
}

func TestDeterministic(t *testing.T) {
	cat := testCatalog()
	tr := randomTruth(rand.New(rand.NewPCG(3, 3)))
	var first string
	for i := 0; i < 5; i++ {
		res, err := Generate(tr.usage(), cat, Options{ConditionRegion: true})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, w := range []func(*bytes.Buffer) error{
			func(b *bytes.Buffer) error { return WritePolicy(b, []*Result{res}) },
			func(b *bytes.Buffer) error { return WriteTerraform(b, []*Result{res}) },
			func(b *bytes.Buffer) error { return WriteCloudFormation(b, []*Result{res}) },
			func(b *bytes.Buffer) error { return WriteReport(b, []*Result{res}) },
			func(b *bytes.Buffer) error { return WriteTable(b, []*Result{res}) },
		} {
			if err := w(&b); err != nil {
				t.Fatal(err)
			}
		}
		if i == 0 {
			first = b.String()
		} else if b.String() != first {
			t.Fatal("output differs between runs")
		}
	}
}

func TestValidate(t *testing.T) {
	for _, o := range []Options{{Resources: "all"}, {ConditionSource: "vpn"}, {Size: "shrink"}} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestNothingToGrant(t *testing.T) {
	u := usage()
	u.Denied = []*analyzer.ActionUsage{au("iam:GetRole", 3, "arn:aws:iam::111122223333:role/admin")}
	res, err := Generate(u, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Policies) != 0 || res.Policies == nil || res.SizeNote != NothingToGrant {
		t.Errorf("policies %+v, note %q", res.Policies, res.SizeNote)
	}
	var b bytes.Buffer
	if err := WriteTable(&b, []*Result{res}); err != nil || !strings.Contains(b.String(), "needed but not granted") ||
		!strings.Contains(b.String(), "policy       none: "+NothingToGrant) {
		t.Errorf("table: %v\n%s", err, b.String())
	}
	// The deployable formats leave the principal out; the report keeps it.
	ou := usage(au("s3:ListAllMyBuckets", 2, "*"))
	ou.Principal = "arn:aws:iam::111122223333:role/other"
	other, err := Generate(ou, testCatalog(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	both := []*Result{res, other}
	for name, write := range map[string]func(io.Writer, []*Result) error{"policy": WritePolicy, "terraform": WriteTerraform, "cloudformation": WriteCloudFormation} {
		b.Reset()
		if err := write(&b, both); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), res.Principal) || !strings.Contains(b.String(), other.Principal) || strings.Contains(b.String(), "Statement: []") {
			t.Errorf("%s names the principal with nothing to grant:\n%s", name, b.String())
		}
	}
	b.Reset()
	if err := WriteReport(&b, both); err != nil || !strings.Contains(b.String(), NothingToGrant) {
		t.Errorf("report: %v\n%s", err, b.String())
	}
}

// TestTableWidth: at a terminal's width, no line of the table is longer
// than the width and a cut list says how many it left out; without a width
// every resource is there.
func TestTableWidth(t *testing.T) {
	var arns []string
	for i := 0; i < 40; i++ {
		arns = append(arns, fmt.Sprintf("arn:aws:s3:::bucket-with-a-rather-long-name-%02d", i))
	}
	u := usage(au("s3:GetBucketAcl", 40, arns...))
	u.Profile.UserAgents = []analyzer.Count{{Value: strings.Repeat("aws-sdk-go-v2/1.17.0 os/linux lang/go ", 6), Count: 40}}
	res, err := Generate(u, testCatalog(), Options{Resources: ResourcesExact, MaxResources: 100})
	if err != nil {
		t.Fatal(err)
	}
	var full, fit bytes.Buffer
	if err := WriteTable(&full, []*Result{res}); err != nil {
		t.Fatal(err)
	}
	if err := WriteTableWidth(&fit, []*Result{res}, 120); err != nil {
		t.Fatal(err)
	}
	for _, a := range arns {
		if !strings.Contains(full.String(), a) {
			t.Fatalf("the full table lacks %s", a)
		}
	}
	for _, l := range strings.Split(fit.String(), "\n") {
		if n := len([]rune(l)); n > 120 {
			t.Errorf("%d characters: %q", n, l)
		}
	}
	if !regexp.MustCompile(`… \+\d+ more \(--format json lists all\)`).MatchString(fit.String()) {
		t.Errorf("the cut list does not say what it left out:\n%s", fit.String())
	}
}

// TestFailedCallsAreGranted: a call that passed authorisation and then
// failed (NoSuchKey, throttling) was authorised, so its action and
// resource are granted and marked; ExcludeFailed leaves them out; denied
// calls are never granted.
func TestFailedCallsAreGranted(t *testing.T) {
	bucket := "arn:aws:s3:::data"
	u := usage(au("s3:GetObject", 5, bucket+"/a.csv"), au("s3:ListBucket", 2, bucket))
	failedGet := au("s3:GetObject", 3, bucket+"/missing.csv")
	failedGet.ErrorCodes = []analyzer.Count{{Value: "NoSuchKey", Count: 3}}
	failedFn := au("lambda:GetFunction", 1, "arn:aws:lambda:us-east-1:111122223333:function:gone")
	failedFn.ErrorCodes = []analyzer.Count{{Value: "ResourceNotFoundException", Count: 1}}
	u.Failed = []*analyzer.ActionUsage{failedGet, failedFn}
	u.Denied = []*analyzer.ActionUsage{au("iam:GetRole", 1, "arn:aws:iam::111122223333:role/admin")}
	allows := func(r *Result, action, arn string) bool {
		for _, d := range r.Policies {
			for _, st := range d.Statement {
				for _, a := range st.Action {
					for _, res := range st.Resource {
						if a == action && (res == arn || res == "*") {
							return true
						}
					}
				}
			}
		}
		return false
	}
	res, err := Generate(u, testCatalog(), Options{Resources: ResourcesExact})
	if err != nil {
		t.Fatal(err)
	}
	checkFits(t, res, testCatalog())
	for _, c := range []struct {
		action, arn string
		want        bool
	}{
		{"s3:GetObject", bucket + "/a.csv", true},
		{"s3:GetObject", bucket + "/missing.csv", true},
		{"lambda:GetFunction", "arn:aws:lambda:us-east-1:111122223333:function:gone", true},
		{"iam:GetRole", "arn:aws:iam::111122223333:role/admin", false},
	} {
		if got := allows(res, c.action, c.arn); got != c.want {
			t.Errorf("%s on %s: %v, want %v", c.action, c.arn, got, c.want)
		}
	}
	var get *ActionEvidence
	for i := range res.Evidence {
		for j := range res.Evidence[i].Actions {
			if res.Evidence[i].Actions[j].Action == "s3:GetObject" {
				get = &res.Evidence[i].Actions[j]
			}
		}
	}
	if get == nil || get.Calls != 8 || get.FailedCalls != 3 || len(get.ErrorCodes) != 1 || get.ErrorCodes[0].Value != "NoSuchKey" {
		t.Errorf("s3:GetObject evidence %+v: want 8 calls, 3 failed with NoSuchKey", get)
	}
	if len(u.Allowed[0].Resources) != 1 || u.Allowed[0].Calls != 5 {
		t.Errorf("Generate changed the usage: %+v", u.Allowed[0])
	}
	var b bytes.Buffer
	if err := WriteTable(&b, []*Result{res}); err != nil || !strings.Contains(b.String(), "s3:GetObject  3 of 8 calls, NoSuchKey×3") {
		t.Errorf("table: %v\n%s", err, b.String())
	}

	res, err = Generate(u, testCatalog(), Options{Resources: ResourcesExact, ExcludeFailed: true})
	if err != nil {
		t.Fatal(err)
	}
	if allows(res, "s3:GetObject", bucket+"/missing.csv") || allows(res, "lambda:GetFunction", "arn:aws:lambda:us-east-1:111122223333:function:gone") ||
		!allows(res, "s3:GetObject", bucket+"/a.csv") || !res.FailedExcluded {
		t.Errorf("ExcludeFailed: %+v", res.Policies[0])
	}
	b.Reset()
	if err := WriteTable(&b, []*Result{res}); err != nil || !strings.Contains(b.String(), "left out: --exclude-failed") {
		t.Errorf("table: %v\n%s", err, b.String())
	}
}
