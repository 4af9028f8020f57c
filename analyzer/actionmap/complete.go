package actionmap

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// escape writes a value from a log so that IAM reads it literally: a '*',
// '?' or '$' in an S3 key or a name becomes ${*}, ${?} or ${$}. Every
// resource the mapper returns is an IAM Resource pattern: the log's values
// escaped, and wildcards only where the mapper means them (instance/* for
// an instance the call creates, secret:NAME-?????? for Secrets Manager's
// suffix).
func escape(s string) string { return iampolicy.EscapeLiteral(s) }

// Why texts for resources the mapper writes as patterns.
const (
	WhyCreated    = "created by the call: its name or ID is not known before, so every %s of the call's region and account"
	WhyNotNamed   = "the request does not name the %s (AWS takes it from a default, a template or another resource): every %s of the call's region and account"
	WhyPartial    = "the request names the %s only in part: the rest is \"*\""
	WhyRandomName = "Secrets Manager appends 6 random characters to a secret's name: NAME-??????"
)

// complete adds to act the resources the call is authorised on that the
// request builders did not derive, driven by the catalogue: for a call
// authorised on several resources (AuthorisedOn), each group not yet
// filled takes an ARN the request gives that fits it, or is derived from
// the request by its ARN format, or, when the
// request does not name it, written as every resource of its type in the
// call's region and account (a resource the call creates, or one AWS
// picks); for any other action whose resource is still unknown, a
// required type is derived from the request the same way, and a type the
// call creates ("CreateVpc" creates a vpc) is written by type.
func (m *Mapper) complete(act *Action, a *catalog.Action, req gjson.Result, ac arnCtx, why *map[string]string) {
	svc, ok := m.cat.Service(a.Service)
	if !ok {
		return
	}
	groups := AuthorisedOn(a.FullName())
	if groups == nil {
		if len(act.Resources) > 0 {
			return
		}
		for _, r := range a.Resources {
			if r.Required {
				groups = append(groups, ResourceGroup{Types: []string{r.Type}, Named: true, Created: creates(a.Name, r.Type)})
			}
		}
		if len(groups) > 1 {
			// alternatives: derive only a type the request names in
			// full, and write no type by pattern
			for i := range groups {
				groups[i].Created = false
			}
		}
	}
	add := func(arn, reason string) {
		act.Resources = append(act.Resources, arn)
		if reason != "" {
			setWhy(why, arn, reason)
		}
	}
	for _, g := range groups {
		if g.Always {
			add(typePattern(svc.ResourceTypes[g.Types[0]].ARNFormats[0], ac), strings.ReplaceAll(WhyCreated, "%s", g.Types[0]))
			continue
		}
		if filled(svc, a, g.Types, act.Resources) {
			continue
		}
		done := false
		for _, arn := range requestARNs(req) {
			if contains(g.Types, typeOf(svc, a, arn)) {
				add(escape(arn), "")
				done = true
			}
		}
		for _, typ := range g.Types {
			rt := svc.ResourceTypes[typ]
			if rt == nil || done {
				continue
			}
			arns, partial := fromRequest(rt, req, ac, g.Created)
			for _, arn := range arns {
				reason := ""
				if partial {
					reason = strings.ReplaceAll(WhyPartial, "%s", typ)
				}
				add(arn, reason)
				done = true
			}
			if done {
				break
			}
		}
		if done || (g.Named && !g.Created) {
			continue
		}
		typ := g.Types[0]
		rt := svc.ResourceTypes[typ]
		if rt == nil || len(rt.ARNFormats) == 0 {
			continue
		}
		reason := strings.ReplaceAll(WhyCreated, "%s", typ)
		if !g.Created {
			reason = strings.ReplaceAll(WhyNotNamed, "%s", typ)
		}
		add(typePattern(rt.ARNFormats[0], ac), reason)
	}
}

// filled reports whether one of arns is of one of types, as typeOf reads
// it.
func filled(svc *catalog.Service, a *catalog.Action, types []string, arns []string) bool {
	for _, arn := range arns {
		if contains(types, typeOf(svc, a, arn)) {
			return true
		}
	}
	return false
}

// typeOf returns the action's resource type an ARN (or pattern) is: of the
// types whose format it fits, the one whose format says the most (a
// backup's table/T/backup/B fits the table format table/${TableName} too,
// whose last variable takes the rest).
func typeOf(svc *catalog.Service, a *catalog.Action, arn string) string {
	probe := wildcardProbe.Replace(arn)
	best, bestLen := "", -1
	for _, r := range a.Resources {
		rt := svc.ResourceTypes[r.Type]
		if rt == nil || !rt.Matches(probe) {
			continue
		}
		if n := rt.LiteralLen(); n > bestLen {
			best, bestLen = r.Type, n
		}
	}
	return best
}

// wildcardProbe reads a pattern as a name for the catalogue's formats.
var wildcardProbe = strings.NewReplacer("*", "x", "?", "x")

// creates reports whether an action creates a resource of the type: its
// name is a creating verb followed by the type's name ("CreateVpc" and
// vpc, "CreateInternetGateway" and internet-gateway,
// "RegisterTaskDefinition" and task-definition).
func creates(action, typ string) bool {
	for _, verb := range []string{"Create", "Allocate", "Register", "Import", "Request", "Provision", "Purchase"} {
		if rest, ok := strings.CutPrefix(action, verb); ok {
			n := normName(typ)
			r := normName(rest)
			return r == n || r == n+"s"
		}
	}
	return false
}

func normName(s string) string {
	return strings.ToLower(strings.NewReplacer("-", "", "_", "", " ", "").Replace(s))
}

// typePattern writes every resource of a format in the call's region and
// account: its name variables become "*", and so do a region or account
// the record does not give.
func typePattern(format string, ac arnCtx) string {
	var b strings.Builder
	for _, p := range catalog.FormatParts(format) {
		switch p.Var {
		case "":
			b.WriteString(p.Literal)
		case "Partition":
			b.WriteString(ac.partition)
		case "Region":
			b.WriteString(orAny(ac.region))
		case "Account", "AccountId":
			b.WriteString(orAny(ac.account))
		default:
			if !strings.HasSuffix(b.String(), "*") {
				b.WriteString("*")
			}
		}
	}
	return b.String()
}

// requestKeys are the request parameters that name a format's variable,
// when they are not the variable's name in lower camel case (SubnetId is
// subnetId).
var requestKeys = map[string][]string{
	"SecurityGroupId":          {"groupId", "securityGroupId", "securityGroupIds", "groupIds"},
	"KeyPairName":              {"keyName"},
	"TaskDefinitionFamilyName": {"family"},
	"GroupFriendlyName":        {"autoScalingGroupName"},
	"LaunchTemplateId":         {"launchTemplateId"},
	"IdentityName":             {"emailIdentity", "identity"},
	"TableName":                {"targetTableName", "globalTableName"},
}

// notFromRequest are format variables whose value in a request is not the
// ARN's (a secret's name lacks its random suffix; a queue is named by URL).
var notFromRequest = map[string]bool{"SecretId": true, "QueueName": true, "ObjectName": true, "BucketName": true}

// skipKeys hold free text or nested documents, never a resource's name.
var skipKeys = map[string]bool{
	"parameters": true, "tags": true, "Tags": true, "tagSpecificationSet": true, "TagSpecifications": true,
	"tagSpecifications": true, "policyDocument": true, "assumeRolePolicyDocument": true, "policy": true,
	"definition": true, "templateBody": true, "userData": true, "environment": true, "attributes": true,
}

// fromRequest builds the resources of a type from the request: each name
// variable of the type's format is looked for under its key anywhere in
// the request; every value found gives an ARN. A format whose variables
// are found only in part is written with "*" for the rest (partial) when
// the call creates the resource or the part found is its parent's name
// (a stream of a named table). A Create call's resource whose one
// variable is a name (…Name, not an ID AWS assigns) not found under its
// own key takes the request's "name".
func fromRequest(rt *catalog.ResourceType, req gjson.Result, ac arnCtx, created bool) (arns []string, partial bool) {
	if !req.IsObject() {
		return nil, false
	}
	for _, format := range rt.ARNFormats {
		parts := catalog.FormatParts(format)
		vals := map[string][]string{}
		var names []string
		ok := true
		for _, p := range parts {
			switch p.Var {
			case "", "Partition", "Region", "Account", "AccountId":
				continue
			}
			if notFromRequest[p.Var] {
				ok = false
				break
			}
			names = append(names, p.Var)
			vals[p.Var] = namesFor(p.Var, findValues(req, keysOf(p.Var)))
		}
		if !ok || len(names) == 0 {
			continue
		}
		found := 0
		multi := ""
		for _, n := range names {
			if len(vals[n]) > 0 {
				found++
				if len(vals[n]) > 1 {
					multi = n
				}
			}
		}
		if found == 0 && created && len(names) == 1 && strings.HasSuffix(names[0], "Name") {
			// a Create call names what it creates "name" (CreateProject,
			// CreateJob, CreateFilter's parent aside)
			if n := req.Get("name"); n.Type == gjson.String && n.Str != "" {
				vals[names[0]] = namesFor(names[0], []string{n.Str})
				found = len(vals[names[0]])
			}
		}
		if found == 0 || (multi != "" && len(names) > 1) {
			continue
		}
		if found < len(names) && !created && len(vals[names[0]]) == 0 {
			// only a trailing part is named: not this resource's name
			continue
		}
		partial = found < len(names)
		build := func(v string) string {
			var b strings.Builder
			for _, p := range parts {
				switch p.Var {
				case "":
					b.WriteString(p.Literal)
				case "Partition":
					b.WriteString(ac.partition)
				case "Region":
					b.WriteString(ac.region)
				case "Account", "AccountId":
					b.WriteString(ac.account)
				default:
					switch {
					case p.Var == multi:
						b.WriteString(escape(v))
					case len(vals[p.Var]) == 1:
						b.WriteString(escape(vals[p.Var][0]))
					default:
						b.WriteString("*")
					}
				}
			}
			return b.String()
		}
		probeOK := func(s string) bool { return rt.Matches(wildcardProbe.Replace(s)) }
		if multi != "" {
			for _, v := range vals[multi] {
				if s := build(v); probeOK(s) {
					arns = append(arns, s)
				}
			}
		} else if s := build(""); probeOK(s) {
			arns = append(arns, s)
		}
		if len(arns) > 0 {
			return arns, partial
		}
	}
	return nil, false
}

// namesFor keeps the values that can be the variable's: never one with
// ':' (a qualified or ARN-like value), and one with '/' only for a name
// or path variable (an alias "alias/app" is not a KeyId).
func namesFor(v string, vals []string) []string {
	out := vals[:0]
	for _, x := range vals {
		if strings.Contains(x, ":") {
			continue
		}
		if strings.Contains(x, "/") && !strings.Contains(v, "Name") && !strings.Contains(v, "Path") {
			continue
		}
		out = append(out, x)
	}
	return out
}

// requestARNs returns the ARNs the request gives as values (a code signing
// config's, a backup's, a delivery destination's), anywhere in it.
func requestARNs(req gjson.Result) []string {
	if !req.IsObject() || !strings.Contains(req.Raw, `"arn:`) {
		return nil
	}
	var out []string
	var walk func(v gjson.Result, depth int)
	walk = func(v gjson.Result, depth int) {
		if depth > 8 {
			return
		}
		v.ForEach(func(k, x gjson.Result) bool {
			switch {
			case skipKeys[k.Str]:
			case x.Type == gjson.String && strings.HasPrefix(x.Str, "arn:"):
				out = append(out, x.Str)
			case x.IsObject() || x.IsArray():
				walk(x, depth+1)
			}
			return true
		})
	}
	walk(req, 0)
	return out
}

// keysOf are the request keys that may hold a variable's value.
//
// EC2 logs some requests in their XML shape, with the parameters' own
// capitalised names ({"CreateTrafficMirrorFilterRuleRequest":
// {"TrafficMirrorFilterId": …}}), so the variable's name itself is a key
// too.
func keysOf(v string) []string {
	camel := strings.ToLower(v[:1]) + v[1:]
	keys := append([]string{camel, camel + "s", v, v + "s"}, requestKeys[v]...)
	return keys
}

// findValues returns the string values under any of keys, anywhere in the
// request (at most 8 levels down: RunInstances' security groups are in
// networkInterfaceSet.items[].groupSet.items[].groupId), in document order; a key whose value is
// an array gives its string elements. An ARN is not a name and is skipped.
func findValues(req gjson.Result, keys []string) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(v gjson.Result, depth int)
	walk = func(v gjson.Result, depth int) {
		if depth > 8 {
			return
		}
		v.ForEach(func(k, x gjson.Result) bool {
			if skipKeys[k.Str] {
				return true
			}
			if k.Type == gjson.String && contains(keys, k.Str) {
				if x.IsObject() && x.Get("content").Type == gjson.String {
					x = x.Get("content") // the XML shape: {"tag":1,"content":"vpc-…"}
				}
				switch {
				case x.Type == gjson.String:
					if x.Str != "" && !strings.HasPrefix(x.Str, "arn:") && !seen[x.Str] {
						seen[x.Str] = true
						out = append(out, x.Str)
					}
					return true
				case x.IsArray():
					x.ForEach(func(_, e gjson.Result) bool {
						if e.Type == gjson.String && e.Str != "" && !strings.HasPrefix(e.Str, "arn:") && !seen[e.Str] {
							seen[e.Str] = true
							out = append(out, e.Str)
						}
						return true
					})
					return true
				}
			}
			if x.IsObject() || x.IsArray() {
				walk(x, depth+1)
			}
			return true
		})
	}
	walk(req, 0)
	return out
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func orAny(s string) string {
	if s == "" {
		return "*"
	}
	return s
}
