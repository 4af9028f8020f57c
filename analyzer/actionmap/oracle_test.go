package actionmap

import (
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// deniedAction finds the action a denial message names. The variants in the
// real logs: "... is not authorized to perform: s3:ListBucket on resource:
// ...", "... because no identity-based policy allows the s3:ListBucket
// action", "not authorized to call: X", and a prefix in capitals
// ("SNS:ListSubscriptions").
var deniedAction = regexp.MustCompile(`(?:not authorized to perform|no identity-based policy allows the|not authorized to call):? ([A-Za-z0-9-]+:[A-Za-z0-9]+)`)

// deniedResource finds the resource ARN a denial message names.
var deniedResource = regexp.MustCompile(`on resource:? (arn:[^ ]+)`)

// oracleResult is the outcome of the AccessDenied oracle over the real logs.
type oracleResult struct {
	total, agree, notOracle, noAction int
	disagreements                     []string
	// resources: denials naming a concrete ARN for an action iamlens
	// derived resources for; resAgree: those where iamlens derived that ARN
	// (or a pattern that covers it).
	resources, resAgree int
	resDisagreements    []string
	// resNotDerived: denials naming a concrete ARN for an action iamlens
	// derived no resource for without the message.
	resNotDerived []string
	// named: denials naming a concrete ARN; fromMessage: those whose ARN
	// the mapper took from the message and kept (it fits the action's
	// resource types).
	named, fromMessage int
	notFromMessage     []string
}

func runOracle(t testing.TB, m *Mapper, cat *catalog.Catalog) oracleResult {
	var o oracleResult
	for _, dr := range ingesttest.DevRecords(t) {
		if !IsDenied(dr.Rec.Get("errorCode").Str) {
			continue
		}
		msg := dr.Rec.Get("errorMessage").Str
		mm := deniedAction.FindStringSubmatch(msg)
		if mm == nil {
			o.noAction++
			continue
		}
		checked, ok := cat.Action(mm[1])
		if !ok {
			o.notOracle++
			continue
		}
		o.total++
		c := CallFromRecord(dr.Rec)
		res := m.Map(&c)
		var got []string
		var mine *Action
		for i, a := range res.Actions {
			got = append(got, a.Name)
			if a.Name == checked.FullName() {
				mine = &res.Actions[i]
			}
		}
		if mine == nil {
			o.disagreements = append(o.disagreements, dr.Where+" "+c.EventSource+" "+c.EventName+": AWS checked "+mm[1]+
				", iamlens says "+strings.Join(got, ",")+" "+res.Reason)
			continue
		}
		o.agree++
		rm := deniedResource.FindStringSubmatch(msg)
		if rm == nil || strings.ContainsAny(rm[1], "*\"") || (len(mine.Resources) > 0 && mine.Resources[0] == "*") {
			continue
		}
		// The mapper reads a denied call's resource from its message.
		o.named++
		if slices.Contains(mine.Resources, rm[1]) {
			o.fromMessage++
		} else {
			o.notFromMessage = append(o.notFromMessage, dr.Where+" "+mine.Name+": AWS checked "+rm[1]+", iamlens kept "+strings.Join(mine.Resources, ","))
		}
		// To test the builders, map the call again without the message.
		c.ErrorMessage = ""
		var again *Action
		for _, a := range m.Map(&c).Actions {
			if a.Name == checked.FullName() {
				again = &a
			}
		}
		if again == nil || len(again.Resources) == 0 {
			o.resNotDerived = append(o.resNotDerived, dr.Where+" "+mine.Name+": AWS checked "+rm[1])
			continue
		}
		o.resources++
		if slices.ContainsFunc(again.Resources, func(p string) bool { return arnCovers(p, rm[1]) }) {
			o.resAgree++
		} else {
			o.resDisagreements = append(o.resDisagreements, dr.Where+" "+mine.Name+": AWS checked "+rm[1]+", iamlens derived "+strings.Join(again.Resources, ","))
		}
	}
	sort.Strings(o.disagreements)
	sort.Strings(o.resDisagreements)
	sort.Strings(o.resNotDerived)
	return o
}

// arnCovers reports whether the ARN pattern p (with IAM wildcards * and ?)
// matches arn.
func arnCovers(p, arn string) bool {
	if p == arn {
		return true
	}
	var b strings.Builder
	b.WriteString("^")
	for _, r := range p {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String()).MatchString(arn)
}

// TestAccessDeniedOracle: a denied call's errorMessage names the action AWS
// checked. Every such event in the real logs is a test case; the mapping
// must agree on at least 99% of them. Messages naming an action that does
// not exist (sanitised samples say "iam:Action") are not oracles, and
// neither are denials whose message names no action (EC2's encoded
// messages, S3's "Access Denied"). Where the message also names the
// resource, the test reports whether iamlens derived it too.
func TestAccessDeniedOracle(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	o := runOracle(t, New(cat), cat)
	for _, d := range o.disagreements {
		t.Log("disagree:", d)
	}
	for _, d := range o.resDisagreements {
		t.Log("resource differs:", d)
	}
	for _, d := range o.resNotDerived {
		t.Log("resource not derived without the message:", d)
	}
	for _, d := range o.notFromMessage {
		t.Log("resource named but not kept:", d)
	}
	t.Logf("AccessDenied oracle: %d of %d agree (%d messages name no real action, %d denials name no action)",
		o.agree, o.total, o.notOracle, o.noAction)
	t.Logf("resources: %d of %d concrete ARNs named by denials are in the mapping; without the message, the request builders derive %d of %d (%d denials carry no request parameters to build from)",
		o.fromMessage, o.named, o.resAgree, o.resources, len(o.resNotDerived))
	if o.fromMessage < o.named*9/10 {
		t.Errorf("only %d of %d resources named by denials were kept", o.fromMessage, o.named)
	}
	if o.total < 150 {
		t.Fatalf("only %d oracle events found: the data set is not being read", o.total)
	}
	if float64(o.agree) < 0.99*float64(o.total) {
		t.Fatalf("agreement %d/%d is below 99%%", o.agree, o.total)
	}
}

// TestEveryEmittedActionExists maps every record of the real logs and checks
// each action and resource against the catalogue; it also shows what could
// not be mapped, by eventSource and eventName.
func TestEveryEmittedActionExists(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := New(cat)
	tally := NewTally()
	n := 0
	for _, dr := range ingesttest.DevRecords(t) {
		c := CallFromRecord(dr.Rec)
		res := m.Map(&c)
		tally.Add(&c, res)
		n++
		for _, a := range res.Actions {
			if _, ok := cat.Action(a.Name); !ok {
				t.Errorf("%s: emitted %s, which is not in the catalogue", dr.Where, a.Name)
			}
			for _, arn := range a.Resources {
				if !cat.MatchesResource(a.Name, arn) {
					t.Errorf("%s: %s on %s does not fit the action's resource types", dr.Where, a.Name, arn)
				}
			}
		}
	}
	for _, u := range tally.Unmapped() {
		t.Logf("unmapped: %s %s ×%d: %s", u.EventSource, u.EventName, u.Count, u.Reason)
	}
	t.Logf("%d records: %v", n, tally.Counts())
	if tally.Counts()[Mapped] < n*8/10 {
		t.Errorf("only %d of %d records mapped", tally.Counts()[Mapped], n)
	}
}
