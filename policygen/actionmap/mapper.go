package actionmap

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/policygen/catalog"
)

// Mapper maps calls; it is safe for concurrent use.
type Mapper struct {
	cat *catalog.Catalog
}

// New returns a Mapper over the catalogue.
func New(cat *catalog.Catalog) *Mapper { return &Mapper{cat: cat} }

// versionSuffix matches the API-version suffixes some services log:
// Lambda "…20150331", "…20150331v2"; CloudFront "…2016_11_25".
var versionSuffix = regexp.MustCompile(`^([A-Za-z]+?)(\d{8}(v\d+)?|\d{4}_\d{2}_\d{2})$`)

// ServicePrefix returns the IAM service prefix of an eventSource.
func ServicePrefix(eventSource string) string {
	if p, ok := sourcePrefix[eventSource]; ok {
		return p
	}
	host := strings.TrimSuffix(eventSource, ".amazonaws.com")
	return host
}

// BaseName strips an API-version suffix from an event name.
func BaseName(eventName string) string {
	if m := versionSuffix.FindStringSubmatch(eventName); m != nil {
		return m[1]
	}
	return eventName
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
	if why, ok := notAPISources[c.EventSource]; ok {
		return Result{Status: NotAPICall, Reason: why}
	}
	switch c.EventType {
	case "AwsServiceEvent":
		return Result{Status: NotAPICall, Reason: "AwsServiceEvent: an event AWS recorded, not a principal's call"}
	case "AwsConsoleSignIn":
		return Result{Status: NotAPICall, Reason: "console sign-in event"}
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
	cands := m.candidates(c, prefix, name)
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
			for _, arn := range cands.forAction(a.FullName()) {
				if m.cat.MatchesResource(a.FullName(), arn) {
					act.Resources = append(act.Resources, arn)
				}
			}
			if len(act.Resources) == 0 {
				act.ResourceNote = "the resource could not be derived from the event"
			}
			sort.Strings(act.Resources)
			act.Resources = dedupe(act.Resources)
		}
		res.Actions = append(res.Actions, act)
		for _, d := range a.DependentActions {
			if !strings.EqualFold(d, "iam:PassRole") {
				res.NotObservable = append(res.NotObservable, d)
			}
		}
	}
	res.NotObservable = append(res.NotObservable, passRoles(c.RequestParameters)...)
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

// passRoles returns "iam:PassRole on <role>" hints for role-valued
// request parameters.
func passRoles(req string) []string {
	if req == "" {
		return nil
	}
	var out []string
	var walk func(v gjson.Result, depth int)
	walk = func(v gjson.Result, depth int) {
		if depth > 4 {
			return
		}
		v.ForEach(func(k, x gjson.Result) bool {
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
