package iampolicy

import (
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// evalConditions decides a statement's Condition block against a request:
// yes when every condition holds, no when one does not, maybe when one
// cannot be decided (no context, a key the context lacks, an operator
// iamlens does not evaluate). An empty block is yes.
func evalConditions(cs Conditions, req *Request, vars bool) tri {
	out := yes
	for _, c := range cs {
		out = and3(out, evalCondition(c, req, vars))
		if out == no {
			return no
		}
	}
	return out
}

// knownOperators are the base condition operators of the policy language.
var knownOperators = map[string]bool{
	"StringEquals": true, "StringNotEquals": true, "StringEqualsIgnoreCase": true, "StringNotEqualsIgnoreCase": true,
	"StringLike": true, "StringNotLike": true,
	"NumericEquals": true, "NumericNotEquals": true, "NumericLessThan": true, "NumericLessThanEquals": true,
	"NumericGreaterThan": true, "NumericGreaterThanEquals": true,
	"DateEquals": true, "DateNotEquals": true, "DateLessThan": true, "DateLessThanEquals": true,
	"DateGreaterThan": true, "DateGreaterThanEquals": true,
	"Bool": true, "BinaryEquals": true, "IpAddress": true, "NotIpAddress": true,
	"ArnEquals": true, "ArnLike": true, "ArnNotEquals": true, "ArnNotLike": true,
	"Null": true,
}

// negated operators hold when no policy value matches.
func negated(base string) bool {
	return strings.Contains(base, "Not") && base != "Null"
}

func evalCondition(c Condition, req *Request, vars bool) tri {
	q, base, ifExists := c.Parts()
	if !knownOperators[base] || (q != "" && q != "ForAnyValue" && q != "ForAllValues") {
		return maybe
	}
	if req.Context == nil && !req.ContextComplete {
		return maybe
	}
	vals, present := lookup(req.Context, c.Key)
	if base == "Null" {
		// "true": the key must be absent; "false": present.
		if !present && !req.ContextComplete {
			return maybe
		}
		want := len(c.Values) > 0 && strings.EqualFold(c.Values[0], "true")
		if (!present || len(vals) == 0) == want {
			return yes
		}
		return no
	}
	if !present || len(vals) == 0 {
		if !req.ContextComplete {
			return maybe
		}
		switch {
		case ifExists, q == "ForAllValues":
			return yes
		case negated(base) && q == "":
			return yes
		}
		return no
	}
	policy := c.Values
	if vars {
		var ok bool
		if policy, ok = expandValues(policy, req); !ok {
			return maybe
		}
	}
	one := func(v string) tri { return matchOne(base, v, policy) }
	switch q {
	case "ForAllValues":
		out := yes
		for _, v := range vals {
			out = and3(out, one(v))
		}
		return out
	default: // ForAnyValue, or a single-valued key
		out := no
		for _, v := range vals {
			out = max(out, one(v))
		}
		return out
	}
}

// expandValues substitutes policy variables in condition values.
func expandValues(vals []string, req *Request) ([]string, bool) {
	var out []string
	for i, v := range vals {
		if !strings.Contains(v, "${") {
			continue
		}
		sub, ok := substitute(v, req)
		if !ok {
			return nil, false
		}
		if out == nil {
			out = append([]string(nil), vals...)
		}
		out[i] = unescapeLiteral(sub)
	}
	if out == nil {
		return vals, true
	}
	return out, true
}

func unescapeLiteral(s string) string {
	return strings.NewReplacer("${*}", "*", "${?}", "?", "${$}", "$").Replace(s)
}

// matchOne decides one request value against the policy's values: for a
// positive operator, whether some value matches; for a negated one,
// whether none does.
func matchOne(base, v string, policy []string) tri {
	neg := negated(base)
	op := base
	if neg {
		op = strings.Replace(base, "Not", "", 1)
	}
	hit := no
	for _, p := range policy {
		if m := matchValue(op, v, p); m > hit {
			hit = m
		}
	}
	if neg {
		return yes - hit
	}
	return hit
}

func matchValue(op, v, p string) tri {
	b := func(ok bool) tri {
		if ok {
			return yes
		}
		return no
	}
	switch op {
	case "StringEquals":
		return b(v == p)
	case "StringEqualsIgnoreCase":
		return b(strings.EqualFold(v, p))
	case "StringLike":
		g, _ := compileGlob(p, false, false)
		return b(g.match(v))
	case "Bool":
		return b(strings.EqualFold(v, p))
	case "BinaryEquals":
		return b(v == p)
	case "ArnEquals", "ArnLike":
		g, _ := compileGlob(p, false, true)
		return b(g.match(v))
	case "IpAddress":
		pre, err := netip.ParsePrefix(p)
		if err != nil {
			a, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return no
			}
			pre = netip.PrefixFrom(a, a.BitLen())
		}
		a, err := netip.ParseAddr(strings.Split(v, "/")[0])
		if err != nil {
			return no
		}
		return b(pre.Contains(a))
	}
	if cmp, ok := strings.CutPrefix(op, "Numeric"); ok {
		x, err1 := strconv.ParseFloat(v, 64)
		y, err2 := strconv.ParseFloat(p, 64)
		if err1 != nil || err2 != nil {
			return no
		}
		return b(compare(cmp, x, y))
	}
	if cmp, ok := strings.CutPrefix(op, "Date"); ok {
		x, ok1 := parseDate(v)
		y, ok2 := parseDate(p)
		if !ok1 || !ok2 {
			return no
		}
		return b(compare(cmp, float64(x.UnixNano()), float64(y.UnixNano())))
	}
	return maybe
}

func compare(cmp string, x, y float64) bool {
	switch cmp {
	case "Equals":
		return x == y
	case "LessThan":
		return x < y
	case "LessThanEquals":
		return x <= y
	case "GreaterThan":
		return x > y
	case "GreaterThanEquals":
		return x >= y
	}
	return false
}

func parseDate(s string) (time.Time, bool) {
	for _, f := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z", "2006-01-02"} {
		if t, err := time.Parse(f, s); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}
