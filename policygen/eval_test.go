package policygen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// evaluator checks generated policies with the product evaluator
// (analyzer/iampolicy) over the embedded catalogue: a call is allowed when
// the policies give Allowed (not merely conditionally) for its action and
// resource, with the request context the test gives.
type evaluator struct{ e *iampolicy.Evaluator }

// parseDocs round-trips the documents through JSON, as IAM would read them:
// each must parse back to the same bytes, be a valid identity policy and
// use the policy language iamlens writes.
func parseDocs(t testing.TB, docs []*Document) evaluator {
	t.Helper()
	var set iampolicy.Set
	for i, d := range docs {
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		back, err := iampolicy.Parse(b)
		if err != nil {
			t.Fatalf("policy does not parse: %v\n%s", err, b)
		}
		again, _ := json.Marshal(back)
		if !bytes.Equal(again, b) {
			t.Fatalf("policy changes in a round trip:\n%s\n%s", b, again)
		}
		if back.Version != PolicyVersion {
			t.Fatalf("version %q", back.Version)
		}
		if len(back.Statement) > 0 {
			if err := back.Validate(iampolicy.KindIdentity); err != nil {
				t.Fatalf("%v\n%s", err, b)
			}
		}
		set.Identity = append(set.Identity, iampolicy.Policy{Name: fmt.Sprintf("generated-%d", i+1), Document: back})
	}
	e, err := iampolicy.New(set, iampolicy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return evaluator{e}
}

// allows reports whether the policies allow action on resource ("*" for a
// call whose resource is unknown or an action without resource types);
// ctx holds the request's condition keys.
func (e evaluator) allows(action, resource string, ctx map[string]string) bool {
	req := iampolicy.Request{Action: action, Resource: resource}
	if ctx != nil {
		req.Context = map[string][]string{}
		for k, v := range ctx {
			req.Context[k] = []string{v}
		}
	}
	return e.e.Evaluate(req).Decision == iampolicy.Allowed
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
