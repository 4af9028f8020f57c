package actionmap

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

// Mapper maps calls; it is safe for concurrent use.
type Mapper struct {
	cat   *catalog.Catalog
	paths *Paths
	// memo holds the answers given so far, by the call's key (mapKey)
	// and the paths' version: a principal's calls that another principal
	// made alike are mapped once.
	memo *sync.Map
}

// memoEntry is an answer, and the version of the paths it read.
type memoEntry struct {
	paths uint64
	res   Result
}

// New returns a Mapper over the catalogue.
func New(cat *catalog.Catalog) *Mapper { return &Mapper{cat: cat, memo: new(sync.Map)} }

// ServicePrefix returns the IAM service prefix of an eventSource.
func ServicePrefix(eventSource string) string {
	if p, ok := sourcePrefix[eventSource]; ok {
		return p
	}
	host := strings.TrimSuffix(eventSource, ".amazonaws.com")
	return host
}

// BaseName strips an API-version suffix from an event name: Lambda
// "ListFunctions20150331" and "UpdateFunctionCode20150331v2", CloudFront
// "GetDistribution2016_11_25". A name is changed only when what is left is
// all letters. It runs once per event, so it scans bytes rather than using
// a regular expression.
func BaseName(eventName string) string {
	s := eventName
	// "…v2": drop the revision, then expect the 8-digit date before it.
	if i := trailingDigits(s); i < len(s) && i > 0 && s[i-1] == 'v' {
		if base, ok := cutDigits8(s[:i-1]); ok {
			return base
		}
		return eventName
	}
	if base, ok := cutDigits8(s); ok {
		return base
	}
	// "…2016_11_25"
	if n := len(s); n > 10 && isDigits(s[n-10:n-6]) && s[n-6] == '_' && isDigits(s[n-5:n-3]) && s[n-3] == '_' && isDigits(s[n-2:]) && isLetters(s[:n-10]) {
		return s[:n-10]
	}
	return eventName
}

// cutDigits8 removes exactly eight trailing digits preceded by letters only.
func cutDigits8(s string) (string, bool) {
	n := len(s)
	if n <= 8 || trailingDigits(s) != n-8 || !isLetters(s[:n-8]) {
		return "", false
	}
	return s[:n-8], true
}

// trailingDigits returns the index where s's run of trailing digits starts.
func trailingDigits(s string) int {
	i := len(s)
	for i > 0 && s[i-1] >= '0' && s[i-1] <= '9' {
		i--
	}
	return i
}

func isDigits(s string) bool { return s != "" && trailingDigits(s) == 0 }

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return s != ""
}

// IsDenied reports whether an error code means the call was refused by
// authorisation (as opposed to failing for another reason).
func IsDenied(errorCode string) bool {
	switch {
	case errorCode == "":
		return false
	case strings.Contains(errorCode, "AccessDenied"), strings.Contains(errorCode, "UnauthorizedOperation"),
		strings.Contains(errorCode, "Unauthorized"), errorCode == "Forbidden", strings.Contains(errorCode, "NotAuthorized"):
		return true
	}
	return false
}

// Map maps one call.
func (m *Mapper) Map(c *Call) Result {
	var key [1024]byte
	k := c.mapKey(key[:0])
	v := m.paths.version()
	if e, ok := m.memo.Load(string(k)); ok && e.(*memoEntry).paths == v {
		return e.(*memoEntry).res
	}
	res := m.mapCall(c)
	m.memo.Store(string(k), &memoEntry{paths: v, res: res})
	return res
}

// mapCall is Map without the memo.
func (m *Mapper) mapCall(c *Call) Result {
	if why, ok := notAPISources[c.EventSource]; ok {
		return Result{Status: NotAPICall, Reason: why}
	}
	switch c.EventType {
	case "AwsServiceEvent":
		return Result{Status: NotAPICall, Reason: "AwsServiceEvent: an event AWS recorded, not a principal's call"}
	case "AwsConsoleSignIn":
		return Result{Status: NotAPICall, Reason: "console sign-in event"}
	case "AwsConsoleAction":
		return Result{Status: NotAPICall, Reason: "AwsConsoleAction: a console action that is not an API call"}
	case "AwsVpceEvent":
		return Result{Status: NotAPICall, Reason: "AwsVpceEvent: a VPC endpoint network-activity event; the API call itself is logged separately"}
	case "AwsCloudTrailInsight":
		return Result{Status: NotAPICall, Reason: "CloudTrail Insight event"}
	}
	if c.EventSource == "" || c.EventName == "" {
		return Result{Status: Unmapped, Reason: "record has no eventSource or eventName"}
	}
	prefix := ServicePrefix(c.EventSource)
	if _, ok := m.cat.Service(prefix); !ok {
		return Result{Status: Unmapped, Reason: fmt.Sprintf("no IAM service prefix %q for eventSource %s", prefix, c.EventSource)}
	}
	name := BaseName(c.EventName)
	key := prefix + ":" + name
	if why, ok := noPermission[key]; ok {
		return Result{Status: NoPermission, Reason: why}
	}
	var names []string
	switch {
	case renames[key] != nil:
		names = renames[key]
	case prefix == "dynamodb":
		names = dynamoActions(name, c.RequestParameters)
	case prefix == "apigateway":
		names = apigatewayAction(name)
	}
	if names == nil {
		if a, ok := m.cat.Action(key); ok {
			names = []string{a.FullName()}
		} else if a, ok := m.cat.Action(prefix + ":" + c.EventName); ok {
			names = []string{a.FullName()}
		}
	}
	if len(names) == 0 {
		return Result{Status: Unmapped, Reason: fmt.Sprintf("the catalogue has no action %s", key)}
	}
	var req gjson.Result
	if c.RequestParameters != "" {
		req = gjson.Parse(c.RequestParameters)
	}
	cands := m.candidates(c, prefix, name, req)
	ac := cands.ctx
	res := Result{Status: Mapped}
	for _, n := range names {
		a, ok := m.cat.Action(n)
		if !ok {
			return Result{Status: Unmapped, Reason: fmt.Sprintf("rule names %s, which the catalogue lacks", n)}
		}
		act := Action{Name: a.FullName()}
		if len(a.Resources) == 0 {
			act.Resources = []string{"*"}
			act.ResourceNote = "the action allows no resource-level restriction"
		} else {
			var why map[string]string // allocated for the first pattern
			for _, arn := range cands.forAction(a.FullName()) {
				if m.cat.MatchesResource(a.FullName(), arn) {
					act.Resources = append(act.Resources, arn)
					if w := cands.why[arn]; w != "" {
						setWhy(&why, arn, w)
					}
				}
			}
			if !IsDenied(c.ErrorCode) {
				m.complete(&act, a, req, ac, &why)
			}
			if len(act.Resources) == 0 {
				act.ResourceNote = "the resource could not be derived from the event"
			}
			sort.Strings(act.Resources)
			act.Resources = dedupe(act.Resources)
			for _, arn := range act.Resources {
				if w := why[arn]; w != "" {
					if act.Why == nil {
						act.Why = map[string]string{}
					}
					act.Why[arn] = w
				}
			}
		}
		res.Actions = append(res.Actions, act)
		for _, d := range a.DependentActions {
			if !strings.EqualFold(d, "iam:PassRole") {
				res.NotObservable = append(res.NotObservable, d)
			}
		}
	}
	if passesRoles(prefix, res.Actions, m.cat) {
		res.NotObservable = append(res.NotObservable, passRoles(c.RequestParameters)...)
	}
	res.NotObservable = append(res.NotObservable, m.exercised(prefix, name, req)...)
	sort.Strings(res.NotObservable)
	res.NotObservable = dedupe(res.NotObservable)
	return res
}

// dynamoActions handles DynamoDB calls whose actions depend on the request:
// transactions and PartiQL statements.
func dynamoActions(name, req string) []string {
	switch name {
	case "TransactWriteItems":
		var out []string
		gjson.Get(req, "transactItems").ForEach(func(_, it gjson.Result) bool {
			switch {
			case it.Get("put").Exists() || it.Get("Put").Exists():
				out = append(out, "dynamodb:PutItem")
			case it.Get("update").Exists() || it.Get("Update").Exists():
				out = append(out, "dynamodb:UpdateItem")
			case it.Get("delete").Exists() || it.Get("Delete").Exists():
				out = append(out, "dynamodb:DeleteItem")
			case it.Get("conditionCheck").Exists() || it.Get("ConditionCheck").Exists():
				out = append(out, "dynamodb:ConditionCheckItem")
			}
			return true
		})
		if out == nil {
			return []string{"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:ConditionCheckItem"}
		}
		sort.Strings(out)
		return dedupe(out)
	case "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction":
		var out []string
		add := func(stmt string) {
			verb := strings.ToUpper(strings.Fields(stmt + " x")[0])
			switch verb {
			case "SELECT":
				out = append(out, "dynamodb:PartiQLSelect")
			case "INSERT":
				out = append(out, "dynamodb:PartiQLInsert")
			case "UPDATE":
				out = append(out, "dynamodb:PartiQLUpdate")
			case "DELETE":
				out = append(out, "dynamodb:PartiQLDelete")
			}
		}
		if s := gjson.Get(req, "statement"); s.Exists() {
			add(s.Str)
		}
		for _, path := range []string{"statements", "transactStatements"} {
			gjson.Get(req, path).ForEach(func(_, st gjson.Result) bool {
				add(st.Get("statement").Str)
				return true
			})
		}
		sort.Strings(out)
		return dedupe(out)
	}
	return nil
}

// apigatewayAction maps API Gateway management calls to its HTTP-verb
// actions (apigateway:GET, POST, PUT, PATCH, DELETE), which is how IAM
// authorises them.
func apigatewayAction(name string) []string {
	for _, v := range []struct{ prefix, verb string }{
		{"Get", "GET"}, {"List", "GET"}, {"Create", "POST"}, {"Import", "PUT"}, {"Put", "PUT"},
		{"Update", "PATCH"}, {"Delete", "DELETE"}, {"Tag", "PUT"}, {"Untag", "DELETE"},
	} {
		if strings.HasPrefix(name, v.prefix) {
			return []string{"apigateway:" + v.verb}
		}
	}
	return nil
}

// passesRoles reports whether a call can pass a role: one of its actions
// writes, and it is not an iam or sts call (whose role parameters name the
// role acted on).
func passesRoles(prefix string, acts []Action, cat *catalog.Catalog) bool {
	if prefix == "iam" || prefix == "sts" {
		return false
	}
	for _, a := range acts {
		if ca, ok := cat.Action(a.Name); ok && ca.AccessLevel != "Read" && ca.AccessLevel != "List" {
			return true
		}
	}
	return false
}

// passRoles returns "iam:PassRole on <role>" hints for role-valued
// request parameters.
func passRoles(req string) []string {
	// Every key in passRoleParams contains "ole" or "nstanceProfile"; most
	// requests have neither, and skip the walk.
	if req == "" || (!strings.Contains(req, "ole") && !strings.Contains(req, "nstanceProfile")) {
		return nil
	}
	var out []string
	var walk func(v gjson.Result, depth int)
	walk = func(v gjson.Result, depth int) {
		if depth > 4 {
			return
		}
		var seen []string // an object's keys so far: the first of a repeated key counts
		v.ForEach(func(k, x gjson.Result) bool {
			if v.IsObject() {
				if slices.Contains(seen, k.Str) {
					return true
				}
				seen = append(seen, k.Str)
			}
			if x.IsObject() || x.IsArray() {
				if isPassRoleKey(k.Str) && x.IsObject() {
					if arn := x.Get("arn").Str; arn != "" {
						out = append(out, "iam:PassRole on the role of instance profile "+arn)
					} else if n := x.Get("name").Str; n != "" {
						out = append(out, "iam:PassRole on the role of instance profile "+n)
					}
				}
				walk(x, depth+1)
				return true
			}
			if isPassRoleKey(k.Str) && x.Type == gjson.String && x.Str != "" {
				out = append(out, "iam:PassRole on "+x.Str)
			}
			return true
		})
	}
	walk(gjson.Parse(req), 0)
	return out
}

func isPassRoleKey(k string) bool {
	for _, p := range passRoleParams {
		if k == p {
			return true
		}
	}
	return false
}

// setWhy records the reason of a pattern, making the map when it is nil.
func setWhy(m *map[string]string, arn, why string) {
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[arn] = why
}

func dedupe(xs []string) []string {
	if len(xs) < 2 {
		return xs
	}
	out := xs[:1]
	for _, x := range xs[1:] {
		if x != out[len(out)-1] {
			out = append(out, x)
		}
	}
	return out
}
