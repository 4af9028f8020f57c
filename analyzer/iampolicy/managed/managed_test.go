package managed

import (
	"encoding/json"
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

func TestEmbedded(t *testing.T) {
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	// 1,566 from iam-dataset and the two of the supplement.
	if len(all) != 1568 {
		t.Errorf("%d policies, want 1568", len(all))
	}
	for i, p := range all {
		if i > 0 && all[i-1].Name >= p.Name {
			t.Fatalf("not sorted or repeated: %s, %s", all[i-1].Name, p.Name)
		}
		if !strings.HasPrefix(p.ARN, "arn:aws:iam::aws:policy/") || !strings.HasSuffix(p.ARN, "/"+p.Name) ||
			!strings.HasPrefix(p.VersionID, "v") || len(p.Document.Statement) == 0 {
			t.Fatalf("%+v", p)
		}
		if err := p.Document.Validate(iampolicy.KindIdentity); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
	}
}

func TestKnownDocuments(t *testing.T) {
	admin, err := ByName("AdministratorAccess")
	if err != nil {
		t.Fatal(err)
	}
	want := iampolicy.Document{Version: iampolicy.Version, Statement: []iampolicy.Statement{{
		Effect: iampolicy.Allow, Action: iampolicy.Values{"*"}, Resource: iampolicy.Values{"*"}}}}
	if !reflect.DeepEqual(*admin.Document, want) {
		t.Errorf("AdministratorAccess: %+v", admin.Document)
	}
	pu, err := Lookup("arn:aws:iam::aws:policy/PowerUserAccess")
	if err != nil {
		t.Fatal(err)
	}
	if got := pu.Document.Statement[0].NotAction; !reflect.DeepEqual(got, iampolicy.Values{"iam:*", "organizations:*", "account:*"}) {
		t.Errorf("PowerUserAccess NotAction %v", got)
	}
	ro, err := ByName("readonlyaccess")
	if err != nil || ro.Name != "ReadOnlyAccess" || ro.ARN != "arn:aws:iam::aws:policy/ReadOnlyAccess" {
		t.Fatalf("%v %+v", err, ro)
	}
	// A service-role path and another partition find the same policy.
	sr, err := Lookup("arn:aws-us-gov:iam::aws:policy/aws-service-role/APIGatewayServiceRolePolicy")
	if err != nil || sr.Name != "APIGatewayServiceRolePolicy" {
		t.Fatalf("%v %+v", err, sr)
	}
	if p, err := Find("arn:aws:iam::aws:policy/SecurityAudit"); err != nil || p.Name != "SecurityAudit" {
		t.Fatalf("Find: %v", err)
	}
}

func TestNotFound(t *testing.T) {
	_, err := ByName("ReadOnlyAcess")
	var nf *NotFoundError
	if !errors.As(err, &nf) || !errors.Is(err, ErrNotFound) {
		t.Fatalf("%v", err)
	}
	if len(nf.Similar) == 0 || nf.Similar[0] != "ReadOnlyAccess" || !strings.Contains(err.Error(), "did you mean ReadOnlyAccess") {
		t.Errorf("%v", err)
	}
	if _, err := Lookup("arn:aws:iam::123456789012:policy/Mine"); !errors.Is(err, ErrNotFound) {
		t.Errorf("customer policy: %v", err)
	}
	if _, err := ByName(""); !errors.Is(err, ErrNotFound) {
		t.Errorf("empty: %v", err)
	}
}

// TestMatchesSource compares the embedded copy with the source it was
// generated from, when ../shared is there: same ARNs, versions and
// documents (as parsed).
func TestMatchesSource(t *testing.T) {
	b, err := os.ReadFile("../../../../shared/data/reference/aws-managed-policies/managed-policies.json")
	if err != nil {
		t.Skipf("needs ../shared/data (absent: %v): the embedded copy is checked on its own", err)
	}
	var src struct {
		Policies []struct {
			Name     string          `json:"name"`
			ARN      string          `json:"arn"`
			Version  string          `json:"version"`
			Document json.RawMessage `json:"document"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(b, &src); err != nil {
		t.Fatal(err)
	}
	for _, s := range src.Policies {
		p, err := Lookup(s.ARN)
		if err != nil {
			t.Errorf("%s: %v", s.ARN, err)
			continue
		}
		want, err := iampolicy.Parse(s.Document)
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != s.Name || p.VersionID != s.Version || !reflect.DeepEqual(p.Document, want) {
			t.Errorf("%s differs from the source: regenerate with go generate", s.Name)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parse(embedded); err != nil {
			b.Fatal(err)
		}
	}
}
