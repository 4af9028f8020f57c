package policygen

import (
	"encoding/json"
	"strings"
	"testing"
)

// evaluator is the small policy evaluator of the tests: a request is
// allowed when an Allow statement matches its action (case-insensitively)
// and its resource, with * and ? wildcards in both. Conditions are checked
// simply: every key in the statement must have the request's value among
// its values (IpAddress compares the /32 literally).
type evaluator struct{ docs []*Document }

// parseDocs round-trips the documents through JSON, as IAM would read them.
func parseDocs(t testing.TB, docs []*Document) evaluator {
	t.Helper()
	var ev evaluator
	for _, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back Document
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&back); err != nil {
			t.Fatalf("policy does not parse: %v\n%s", err, b)
		}
		if back.Version != PolicyVersion {
			t.Fatalf("version %q", back.Version)
		}
		ev.docs = append(ev.docs, &back)
	}
	return ev
}

func (e evaluator) allows(action, resource string, ctx map[string]string) bool {
	for _, d := range e.docs {
		for _, s := range d.Statement {
			if s.Effect != "Allow" {
				continue
			}
			if !anyMatch(s.Action, action, true) || !anyMatch(s.Resource, resource, false) {
				continue
			}
			ok := true
			for _, kv := range s.Condition {
				for k, vals := range kv {
					v, has := ctx[k]
					if !has {
						continue // the test does not model this key
					}
					if k == "aws:SourceIp" && !strings.Contains(v, "/") {
						v += "/32"
					}
					if !contains(vals, v) {
						ok = false
					}
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			if wildMatch(strings.ToLower(p), strings.ToLower(s)) {
				return true
			}
		} else if wildMatch(p, s) {
			return true
		}
	}
	return false
}

// wildMatch is IAM's glob: * any run of characters (including none), ?
// exactly one.
func wildMatch(p, s string) bool {
	// dp over p × s
	prev := make([]bool, len(s)+1)
	prev[0] = true
	for i := 0; i < len(p); i++ {
		cur := make([]bool, len(s)+1)
		if p[i] == '*' {
			cur[0] = prev[0]
		}
		for j := 1; j <= len(s); j++ {
			switch p[i] {
			case '*':
				cur[j] = prev[j] || cur[j-1]
			case '?':
				cur[j] = prev[j-1]
			default:
				cur[j] = prev[j-1] && p[i] == s[j-1]
			}
		}
		prev = cur
	}
	return prev[len(s)]
}

func TestWildMatch(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"*", "", true},
		{"s3:Get*", "s3:GetObject", true},
		{"s3:Get*", "s3:PutObject", false},
		{"arn:aws:s3:::b/logs/*", "arn:aws:s3:::b/logs/2026/x.gz", true},
		{"arn:aws:s3:::b/logs/*", "arn:aws:s3:::b/other", false},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"fn-*-prod", "fn-a-prod", true},
		{"fn-*-prod", "fn-a-dev", false},
	} {
		if got := wildMatch(c.p, c.s); got != c.want {
			t.Errorf("wildMatch(%q, %q) = %v, want %v", c.p, c.s, got, c.want)
		}
	}
}
