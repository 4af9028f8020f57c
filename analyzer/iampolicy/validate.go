package iampolicy

import (
	"fmt"
	"strings"
)

// Kind is what a document is used as; each kind needs different elements.
type Kind int

// Kinds of policy.
const (
	// KindIdentity: attached to a user, group or role (or a permissions
	// boundary). No Principal; Resource or NotResource required.
	KindIdentity Kind = iota
	// KindResource: attached to a resource (bucket, key, queue…).
	// Principal or NotPrincipal required; Resource or NotResource required.
	KindResource
	// KindTrust: a role's trust policy. Principal or NotPrincipal required;
	// no Resource; STS actions only.
	KindTrust
)

func (k Kind) String() string {
	switch k {
	case KindResource:
		return "resource policy"
	case KindTrust:
		return "trust policy"
	}
	return "identity policy"
}

// Problem is one thing wrong with a document. Statement is the 0-based
// statement index, or -1 for the document itself.
type Problem struct {
	Statement int
	Sid       string
	Msg       string
}

func (p Problem) String() string {
	if p.Statement < 0 {
		return p.Msg
	}
	if p.Sid != "" {
		return fmt.Sprintf("statement %d (Sid %s): %s", p.Statement, p.Sid, p.Msg)
	}
	return fmt.Sprintf("statement %d: %s", p.Statement, p.Msg)
}

// ValidationError lists every problem Validate found.
type ValidationError struct {
	Kind     Kind
	Problems []Problem
}

func (e *ValidationError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "not a valid %s: %d problem(s)", e.Kind, len(e.Problems))
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	return b.String()
}

// Validate checks what IAM checks before it accepts a document as the given
// kind of policy, and returns a *ValidationError naming every problem (nil
// when there is none). It does not check that actions exist: that needs the
// catalogue (see the evaluator and `iamlens policy`).
func (d *Document) Validate(kind Kind) error {
	var probs []Problem
	doc := func(format string, args ...any) {
		probs = append(probs, Problem{Statement: -1, Msg: fmt.Sprintf(format, args...)})
	}
	switch d.Version {
	case "", Version, "2008-10-17":
	default:
		doc("Version %q is not a policy language version (want %q)", d.Version, Version)
	}
	if len(d.Statement) == 0 {
		doc("no statements")
	}
	sids := map[string]int{}
	for i, s := range d.Statement {
		bad := func(format string, args ...any) {
			probs = append(probs, Problem{Statement: i, Sid: s.Sid, Msg: fmt.Sprintf(format, args...)})
		}
		if s.Sid != "" {
			if j, dup := sids[s.Sid]; dup {
				bad("Sid %q repeats statement %d's (Sids must be unique)", s.Sid, j)
			}
			sids[s.Sid] = i
			if kind != KindResource && !alnum(s.Sid) {
				bad("Sid %q may hold only letters and digits", s.Sid)
			}
		}
		switch s.Effect {
		case Allow, Deny:
		case "":
			bad("no Effect (want Allow or Deny)")
		default:
			bad("Effect %q must be Allow or Deny", s.Effect)
		}
		oneOf(bad, "Action", s.Action, "NotAction", s.NotAction)
		for _, a := range append(append(Values{}, s.Action...), s.NotAction...) {
			if msg := checkAction(a); msg != "" {
				bad("%s", msg)
			} else if kind == KindTrust && a != "*" && !strings.HasPrefix(strings.ToLower(a), "sts:") {
				bad("action %q: a trust policy allows only sts actions (sts:AssumeRole…)", a)
			}
		}
		switch kind {
		case KindIdentity:
			if s.Principal != nil || s.NotPrincipal != nil {
				bad("an identity policy has no Principal or NotPrincipal (the principal is whoever it is attached to)")
			}
		default:
			if s.Principal == nil && s.NotPrincipal == nil {
				bad("no Principal (a %s names who it applies to)", kind)
			}
			if s.Principal != nil && s.NotPrincipal != nil {
				bad("both Principal and NotPrincipal")
			}
			for _, p := range []*Principal{s.Principal, s.NotPrincipal} {
				if p == nil || p.Wildcard {
					continue
				}
				if len(p.Types) == 0 {
					bad("empty Principal")
				}
				for _, t := range sortedKeys(p.Types) {
					switch t {
					case "AWS", "Service", "Federated", "CanonicalUser":
					default:
						bad("principal type %q (want AWS, Service, Federated or CanonicalUser)", t)
					}
					if len(p.Types[t]) == 0 {
						bad("principal type %s has no values", t)
					}
				}
			}
		}
		if kind == KindTrust {
			if s.Resource != nil || s.NotResource != nil {
				bad("a trust policy has no Resource or NotResource (the resource is the role)")
			}
		} else {
			oneOf(bad, "Resource", s.Resource, "NotResource", s.NotResource)
			for _, r := range append(append(Values{}, s.Resource...), s.NotResource...) {
				if r != "*" && !strings.HasPrefix(r, "arn:") {
					bad("resource %q must be \"*\" or an ARN (arn:…)", r)
				}
			}
		}
		for _, c := range s.Condition {
			q, base, ifExists := c.Parts()
			switch {
			case !knownOperators[base]:
				bad("condition operator %q is not an IAM operator", c.Operator)
			case q != "" && q != "ForAnyValue" && q != "ForAllValues":
				bad("condition operator %q: the set qualifier must be ForAnyValue or ForAllValues", c.Operator)
			case base == "Null" && ifExists:
				bad("condition operator %q: Null takes no IfExists", c.Operator)
			}
			if c.Key == "" {
				bad("condition %s has an empty key", c.Operator)
			}
			if len(c.Values) == 0 {
				bad("condition %s %s has no values", c.Operator, c.Key)
			}
		}
	}
	if len(probs) == 0 {
		return nil
	}
	return &ValidationError{Kind: kind, Problems: probs}
}

// oneOf checks that exactly one of two exclusive elements is set and, when
// set, not empty.
func oneOf(bad func(string, ...any), a string, av Values, b string, bv Values) {
	switch {
	case av != nil && bv != nil:
		bad("both %s and %s (a statement has one of them)", a, b)
	case av == nil && bv == nil:
		bad("no %s or %s", a, b)
	case av != nil && len(av) == 0:
		bad("%s is empty", a)
	case bv != nil && len(bv) == 0:
		bad("%s is empty", b)
	}
}

// checkAction says what is wrong with an Action entry: "*" or
// "service:name", the service in lower-case letters, digits and dashes, the
// name in letters, digits and wildcards.
func checkAction(a string) string {
	if a == "*" {
		return ""
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" {
		return fmt.Sprintf("action %q must be \"*\" or service:Action", a)
	}
	for _, c := range svc {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '*' || c == '?') {
			return fmt.Sprintf("action %q: the service prefix may hold only letters, digits and dashes", a)
		}
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '*' || c == '?' || c == '-' || c == '_' || c == '.') {
			return fmt.Sprintf("action %q: the action name may hold only letters, digits and wildcards", a)
		}
	}
	return ""
}

func alnum(s string) bool {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
