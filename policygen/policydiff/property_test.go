package policydiff

import (
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iampolicy/managed"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// gaadFiles are the real get-account-authorization-details outputs: the
// committed copies, and the full files of ../shared/data when present.
func gaadFiles(t *testing.T) []string {
	t.Helper()
	files := []string{
		filepath.Join("..", "..", "testdata", "iamstate", "cloudsplaining", "example-excerpt.json"),
		filepath.Join("..", "..", "testdata", "iamstate", "cloudsplaining", "example-authz-details-excerpt.json"),
		filepath.Join("..", "..", "testdata", "iamstate", "aws-cli", "iam.get-account-authorization-details.output1.json"),
		filepath.Join("..", "..", "testdata", "iamstate", "airiam", "iam_data-excerpt.json"),
	}
	if dir, err := sharedGAAD(); err == nil {
		matches, _ := filepath.Glob(filepath.Join(dir, "*.json"))
		files = append(files, matches...)
	} else {
		t.Logf("only the committed GAAD excerpts: %v", err)
	}
	return files
}

func sharedGAAD() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, "shared", "data", "aws-outputs", "gaad")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("shared/data/aws-outputs/gaad not found above the working directory")
		}
		dir = parent
	}
}

func embeddedManaged(policyARN string) (*iampolicy.Document, bool) {
	p, err := managed.Lookup(policyARN)
	if err != nil {
		return nil, false
	}
	return p.Document, true
}

// principalsOf returns every user and role of a GAAD file with its
// effective policies (AWS managed ones it names by ARN only from the
// embedded copy).
func principalsOf(t *testing.T, file string) []*iamstate.Effective {
	t.Helper()
	in, err := iamstate.Files{GAAD: file}.Load()
	if err != nil {
		t.Fatal(err)
	}
	a := iamstate.Build(in)
	var out []*iamstate.Effective
	var arns []string
	for _, u := range a.Users {
		arns = append(arns, u.ARN)
	}
	for _, r := range a.Roles {
		arns = append(arns, r.ARN)
	}
	for _, arn := range arns {
		e, err := a.EffectivePoliciesWith(arn, iamstate.EffectiveOptions{AWSManaged: embeddedManaged})
		if errors.Is(err, iamstate.ErrNoSuchPrincipal) {
			continue // cloudsplaining's test file mixes accounts in its ARNs
		}
		if err != nil {
			t.Fatalf("%s: %v", arn, err)
		}
		if len(e.Policies) > 0 {
			out = append(out, e)
		}
	}
	return out
}

// fill instantiates an ARN format of the catalogue.
func fill(format, account string, rng *rand.Rand) string {
	names := []string{"app", "data", "logs/2026/a", "x1", "build-7"}
	var b strings.Builder
	for _, part := range catalog.FormatParts(format) {
		switch {
		case part.Var == "":
			b.WriteString(part.Literal)
		case part.Var == "Partition":
			b.WriteString("aws")
		case part.Var == "Region":
			b.WriteString("us-east-1")
		case part.Var == "Account":
			b.WriteString(account)
		default:
			n := names[rng.IntN(len(names))]
			if !part.Slash {
				n = strings.ReplaceAll(n, "/", "-")
			}
			b.WriteString(n)
		}
	}
	return b.String()
}

// arnsFor makes one to three ARNs of the action's resource types; nil for
// an action without resource types.
func arnsFor(cat *catalog.Catalog, action, account string, rng *rand.Rand) []string {
	types := cat.ResourceTypesFor(action)
	if len(types) == 0 {
		return nil
	}
	var out []string
	for n := 1 + rng.IntN(3); n > 0; n-- {
		rt := types[rng.IntN(len(types))]
		if len(rt.ARNFormats) == 0 {
			continue
		}
		out = append(out, fill(rt.ARNFormats[0], account, rng))
	}
	return out
}

// syntheticUsage draws what a principal might have done: some of its
// granted actions (allowed, some failed after authorisation, some with the
// resource hidden), a few actions it is not granted (denied, or
// succeeded: granted elsewhere).
func syntheticUsage(cat *catalog.Catalog, principal, account string, grants []iampolicy.Grant, rng *rand.Rand) *analyzer.Usage {
	u := usageOf(principal)
	pick := func(n int) []string {
		var out []string
		for i := 0; i < n && len(grants) > 0; i++ {
			out = append(out, grants[rng.IntN(len(grants))].Action)
		}
		return out
	}
	seen := map[string]bool{}
	for _, a := range pick(20) {
		if seen[a] {
			continue
		}
		seen[a] = true
		arns := arnsFor(cat, a, account, rng)
		if len(arns) == 0 || rng.IntN(5) == 0 {
			arns = append(arns, "*")
		}
		au := act(a, arns...)
		if rng.IntN(6) == 0 {
			au.ErrorCodes = []analyzer.Count{{Value: "NoSuchEntity", Count: au.Calls}}
			u.Failed = append(u.Failed, au)
			continue
		}
		u.Allowed = append(u.Allowed, au)
	}
	all := []string{"s3:GetObject", "iam:CreateUser", "ec2:TerminateInstances", "kms:Decrypt", "lambda:InvokeFunction", "sts:GetSessionToken"}
	for i, a := range all {
		if seen[a] {
			continue
		}
		arns := arnsFor(cat, a, account, rng)
		if len(arns) == 0 {
			arns = []string{"*"}
		}
		if i%2 == 0 {
			u.Denied = append(u.Denied, act(a, arns...))
		} else {
			u.Allowed = append(u.Allowed, act(a, arns...))
		}
	}
	return u
}

// instances turns a Resource entry into concrete ARNs it names: each
// wildcard filled with a few strings, IAM's escapes read back.
func instances(pattern string) []string {
	const star, q, dollar = "\x01", "\x02", "\x03"
	p := strings.NewReplacer("${*}", star, "${?}", q, "${$}", dollar).Replace(pattern)
	var out []string
	for _, fillStar := range []string{"x", "secret/x", "a:b", ""} {
		s := strings.ReplaceAll(p, "*", fillStar)
		s = strings.ReplaceAll(s, "?", "q")
		out = append(out, strings.NewReplacer(star, "*", q, "?", dollar, "$").Replace(s))
	}
	return out
}

// TestProposalNeverWidens is the property the proposal exists for: over
// every user and role of the real GAAD files, with usages drawn at random
// from what each is granted (and a few actions it is not), every request
// the proposal allows (on the ARNs its entries, the current policies'
// entries and the usage name), the current policies allow, as strongly;
// and every action the proposal allows on some resource, they allow.
func TestProposalNeverWidens(t *testing.T) {
	cat := realCatalog(t)
	cache := NewCache()
	principals, checks := 0, 0
	for _, file := range gaadFiles(t) {
		for _, cur := range principalsOf(t, file) {
			h := fnv.New64a()
			h.Write([]byte(file + cur.ARN))
			rng := rand.New(rand.NewPCG(h.Sum64(), 25))
			ce := cache.get(cur, cat)
			if ce.err != nil {
				t.Fatal(ce.err)
			}
			account := strings.Split(cur.ARN, ":")[4]
			u := syntheticUsage(cat, cur.ARN, account, ce.actions(), rng)
			p, err := Compare(Input{Usage: u, Current: cur}, Options{Catalog: cat}, cache)
			if err != nil {
				t.Fatalf("%s: %v", cur.ARN, err)
			}
			principals++
			set := iampolicy.Set{Identity: []iampolicy.Policy{{Name: "proposed", Document: p.Proposed}}}
			if cur.Boundary != nil {
				set.Boundary = []iampolicy.Policy{{Name: "boundary", Document: cur.Boundary.Document}}
			}
			pe, err := iampolicy.New(set, iampolicy.Options{Catalog: cat})
			if err != nil {
				t.Fatal(err)
			}
			// Some resource: action by action.
			granted := map[string]iampolicy.Grant{}
			for _, g := range ce.actions() {
				granted[g.Action] = g
			}
			for _, g := range pe.Actions() {
				c, ok := granted[g.Action]
				checks++
				if !ok || (c.Conditional && !g.Conditional) {
					t.Errorf("%s (%s): the proposal allows %s (conditional %v); the current policies: %v %+v", cur.ARN, file, g.Action, g.Conditional, ok, c)
				}
			}
			// Concrete ARNs.
			samples := map[string][]string{}
			for _, st := range p.Proposed.Statement {
				if st.Effect != iampolicy.Allow {
					continue
				}
				for _, a := range st.Action {
					for _, r := range st.Resource {
						samples[a] = append(samples[a], instances(r)...)
					}
					samples[a] = append(samples[a], arnsFor(cat, a, account, rng)...)
					for _, ap := range cur.Policies {
						for _, cs := range ap.Document.Statement {
							for _, r := range append(append([]string{}, cs.Resource...), cs.NotResource...) {
								samples[a] = append(samples[a], instances(r)...)
							}
						}
					}
				}
			}
			for _, list := range [][]*analyzer.ActionUsage{u.Allowed, u.Failed, u.Denied} {
				for _, au := range list {
					for _, r := range au.Resources {
						samples[au.Action] = append(samples[au.Action], r.ARN)
					}
				}
			}
			for a, arns := range samples {
				typed := cat.AllowsResourceLevel(a)
				for _, arn := range arns {
					if typed && !cat.MatchesResource(a, arn) {
						continue // IAM never authorises the action on such a resource
					}
					pd := pe.Evaluate(iampolicy.Request{Action: a, Resource: arn}).Decision
					if !pd.Granted() {
						continue
					}
					cd := ce.e.Evaluate(iampolicy.Request{Action: a, Resource: arn}).Decision
					checks++
					if !cd.Granted() || (pd == iampolicy.Allowed && cd != iampolicy.Allowed) {
						t.Errorf("%s (%s): the proposal decides %s on %s %v, the current policies %v", cur.ARN, filepath.Base(file), a, arn, pd, cd)
					}
				}
			}
		}
	}
	if principals < 20 || checks < 1000 {
		t.Errorf("only %d principals and %d checks", principals, checks)
	}
	t.Logf("%d principals, %d requests checked", principals, checks)
}
