// Package iampolicy is iamlens's one model of an IAM policy document: it
// parses every shape AWS and Terraform print (string-or-list fields,
// URL-encoded documents, Principal/NotPrincipal, NotAction, NotResource,
// typed conditions), marshals deterministically, and evaluates requests
// against a principal's policies.
//
// Parsing keeps what the document says and nothing more: an absent element is
// nil, an element given as one string is a one-element Values. Marshalling
// writes elements in a fixed order, lists always as arrays (Principal "*"
// stays a string), and conditions sorted by operator and key, so the same
// document always prints the same bytes.
package iampolicy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strings"
)

// Version is the policy language version iamlens writes.
const Version = "2012-10-17"

// Effects of a statement.
const (
	Allow = "Allow"
	Deny  = "Deny"
)

// Document is an IAM policy document.
type Document struct {
	Version   string
	ID        string
	Statement []Statement
}

// Statement is one statement of a document. Exactly one of Action and
// NotAction, and at most one of Resource and NotResource (none in a trust or
// resource policy without resources), and at most one of Principal and
// NotPrincipal are set in a valid document; the parser keeps what it is
// given and Validate says what is wrong.
type Statement struct {
	Sid          string
	Effect       string
	Principal    *Principal
	NotPrincipal *Principal
	Action       Values
	NotAction    Values
	Resource     Values
	NotResource  Values
	Condition    Conditions
}

// Values is a policy element that JSON gives as one string or a list of
// them. nil means the element is absent; an empty, non-nil Values means it
// was given as [].
type Values []string

// Principal is a statement's Principal or NotPrincipal: "*" (Wildcard), or
// a map from principal type ("AWS", "Service", "Federated",
// "CanonicalUser") to values.
type Principal struct {
	Wildcard bool
	Types    map[string]Values
}

// Condition is one key of one condition operator: {"Operator": {"Key":
// [Values]}}. Operator is written as in the document, qualifiers included
// ("ForAnyValue:StringLikeIfExists"); Values are strings whatever JSON type
// the document used (true, 10 → "true", "10").
type Condition struct {
	Operator string
	Key      string
	Values   []string
}

// Conditions are a statement's Condition block, sorted by operator and key.
type Conditions []Condition

// Parts splits a condition operator into its set qualifier
// ("ForAllValues", "ForAnyValue" or ""), its base operator ("StringLike")
// and whether it ends in IfExists.
func (c Condition) Parts() (qualifier, base string, ifExists bool) {
	op := c.Operator
	if q, rest, ok := strings.Cut(op, ":"); ok {
		qualifier, op = q, rest
	}
	if strings.HasSuffix(op, "IfExists") && op != "IfExists" {
		op, ifExists = strings.TrimSuffix(op, "IfExists"), true
	}
	return qualifier, op, ifExists
}

// Parse reads a policy document: a JSON object, or a JSON string holding
// one (URL-encoded, as the IAM API returns documents, or not).
func Parse(b []byte) (*Document, error) {
	var d Document
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ErrNotDocument means the JSON is not a policy document.
var ErrNotDocument = errors.New("not an IAM policy document")

// Unwrap returns the document a JSON value holds: the value itself, or
// the text of a JSON string holding one, URL-decoded when it is
// URL-encoded (as IAM's API and get-account-authorization-details print
// it). Surrounding space is trimmed.
func Unwrap(b []byte) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '"' {
		return b, nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("policy document: %w", err)
	}
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		if u, err := url.QueryUnescape(s); err == nil {
			s = strings.TrimSpace(u)
		}
	}
	return []byte(s), nil
}

// UnmarshalJSON reads a document object, or a string holding one
// (URL-encoded or not).
func (d *Document) UnmarshalJSON(b []byte) error {
	b, err := Unwrap(b)
	if err != nil {
		return err
	}
	if len(b) == 0 || b[0] != '{' {
		return fmt.Errorf("policy document: %w: want a JSON object", ErrNotDocument)
	}
	var raw struct {
		Version   *string         `json:"Version"`
		ID        *string         `json:"Id"`
		Statement json.RawMessage `json:"Statement"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("policy document: %w", err)
	}
	if raw.Statement == nil {
		return fmt.Errorf("policy document: %w: no Statement", ErrNotDocument)
	}
	*d = Document{}
	if raw.Version != nil {
		d.Version = *raw.Version
	}
	if raw.ID != nil {
		d.ID = *raw.ID
	}
	st := bytes.TrimSpace(raw.Statement)
	switch {
	case bytes.Equal(st, []byte("null")):
	case len(st) > 0 && st[0] == '[':
		if err := json.Unmarshal(st, &d.Statement); err != nil {
			return fmt.Errorf("policy document: %w", err)
		}
	default:
		var one Statement
		if err := json.Unmarshal(st, &one); err != nil {
			return fmt.Errorf("policy document: %w", err)
		}
		d.Statement = []Statement{one}
	}
	return nil
}

// MarshalJSON writes Version, Id and Statement in that order; Statement is
// always a list.
func (d Document) MarshalJSON() ([]byte, error) { return d.AppendJSON(nil), nil }

type rawStatement struct {
	Sid          *string         `json:"Sid"`
	Effect       *string         `json:"Effect"`
	Principal    json.RawMessage `json:"Principal"`
	NotPrincipal json.RawMessage `json:"NotPrincipal"`
	Action       json.RawMessage `json:"Action"`
	NotAction    json.RawMessage `json:"NotAction"`
	Resource     json.RawMessage `json:"Resource"`
	NotResource  json.RawMessage `json:"NotResource"`
	Condition    json.RawMessage `json:"Condition"`
}

// UnmarshalJSON reads a statement; each list element may be one string.
func (s *Statement) UnmarshalJSON(b []byte) error {
	var raw rawStatement
	if err := json.Unmarshal(b, &raw); err != nil {
		return fmt.Errorf("statement: %w", err)
	}
	*s = Statement{}
	if raw.Sid != nil {
		s.Sid = *raw.Sid
	}
	if raw.Effect != nil {
		s.Effect = *raw.Effect
	}
	var err error
	for _, f := range []struct {
		name string
		raw  json.RawMessage
		dst  *Values
	}{{"Action", raw.Action, &s.Action}, {"NotAction", raw.NotAction, &s.NotAction},
		{"Resource", raw.Resource, &s.Resource}, {"NotResource", raw.NotResource, &s.NotResource}} {
		if f.raw == nil {
			continue
		}
		if *f.dst, err = parseValues(f.raw); err != nil {
			return fmt.Errorf("statement %s: %w", f.name, err)
		}
	}
	if raw.Principal != nil {
		if s.Principal, err = parsePrincipal(raw.Principal); err != nil {
			return fmt.Errorf("statement Principal: %w", err)
		}
	}
	if raw.NotPrincipal != nil {
		if s.NotPrincipal, err = parsePrincipal(raw.NotPrincipal); err != nil {
			return fmt.Errorf("statement NotPrincipal: %w", err)
		}
	}
	if raw.Condition != nil {
		if s.Condition, err = parseConditions(raw.Condition); err != nil {
			return fmt.Errorf("statement Condition: %w", err)
		}
	}
	return nil
}

// MarshalJSON writes the statement's elements in a fixed order: Sid,
// Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource,
// Condition. Absent (nil) elements are left out.
func (s Statement) MarshalJSON() ([]byte, error) { return s.appendJSON(nil), nil }

// UnmarshalJSON reads one string or a list of strings.
func (v *Values) UnmarshalJSON(b []byte) error {
	vals, err := parseValues(b)
	if err != nil {
		return err
	}
	*v = vals
	return nil
}

// MarshalJSON always writes a list ([] for an empty, non-nil Values).
func (v Values) MarshalJSON() ([]byte, error) { return v.appendJSON(nil), nil }

func parseValues(b []byte) (Values, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) > 0 && b[0] == '"':
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return nil, err
		}
		return Values{one}, nil
	case len(b) > 0 && b[0] == '[':
		var many []string
		if err := json.Unmarshal(b, &many); err != nil {
			return nil, fmt.Errorf("want strings: %w", err)
		}
		if many == nil {
			many = []string{}
		}
		return Values(many), nil
	case bytes.Equal(b, []byte("null")):
		return nil, nil
	}
	return nil, fmt.Errorf("want a string or a list of strings, not %.40s", b)
}

// MarshalJSON writes "*" for a wildcard principal and an object of lists
// (types in sorted order) otherwise.
func (p *Principal) MarshalJSON() ([]byte, error) { return p.appendJSON(nil), nil }

func parsePrincipal(b []byte) (*Principal, error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, err
		}
		if s != "*" {
			return nil, fmt.Errorf("a string principal must be \"*\", not %q", s)
		}
		return &Principal{Wildcard: true}, nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("want \"*\" or an object: %w", err)
	}
	p := &Principal{Types: make(map[string]Values, len(m))}
	for t, raw := range m {
		vals, err := parseValues(raw)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		p.Types[t] = vals
	}
	return p, nil
}

// MarshalJSON writes {"Operator": {"Key": [values]}} with operators and keys
// in sorted order.
func (cs Conditions) MarshalJSON() ([]byte, error) { return cs.appendJSON(nil), nil }

// UnmarshalJSON reads a Condition block.
func (cs *Conditions) UnmarshalJSON(b []byte) error {
	c, err := parseConditions(b)
	if err != nil {
		return err
	}
	*cs = c
	return nil
}

func parseConditions(b []byte) (Conditions, error) {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		return nil, nil
	}
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(b, &ops); err != nil {
		return nil, fmt.Errorf("want {\"Operator\": {\"key\": value}}: %w", err)
	}
	var cs Conditions
	for op, keys := range ops {
		for key, raw := range keys {
			vals, err := conditionValues(raw)
			if err != nil {
				return nil, fmt.Errorf("%s %s: %w", op, key, err)
			}
			cs = append(cs, Condition{Operator: op, Key: key, Values: vals})
		}
	}
	cs.sort()
	return cs, nil
}

func (cs Conditions) sort() {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Operator != cs[j].Operator {
			return cs[i].Operator < cs[j].Operator
		}
		return cs[i].Key < cs[j].Key
	})
}

// conditionValues reads a condition's value: a scalar (string, boolean,
// number) or a list of them, each kept as its string form.
func conditionValues(b []byte) ([]string, error) {
	b = bytes.TrimSpace(b)
	var items []json.RawMessage
	if len(b) > 0 && b[0] == '[' {
		if err := json.Unmarshal(b, &items); err != nil {
			return nil, err
		}
	} else {
		items = []json.RawMessage{b}
	}
	out := make([]string, 0, len(items))
	for _, it := range items {
		it = bytes.TrimSpace(it)
		switch {
		case len(it) > 0 && it[0] == '"':
			var s string
			if err := json.Unmarshal(it, &s); err != nil {
				return nil, err
			}
			out = append(out, s)
		case bytes.Equal(it, []byte("true")), bytes.Equal(it, []byte("false")):
			out = append(out, string(it))
		case len(it) > 0 && (it[0] == '-' || (it[0] >= '0' && it[0] <= '9')):
			var n json.Number
			if err := json.Unmarshal(it, &n); err != nil {
				return nil, err
			}
			out = append(out, n.String())
		default:
			return nil, fmt.Errorf("want a string, boolean or number, not %.40s", it)
		}
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
