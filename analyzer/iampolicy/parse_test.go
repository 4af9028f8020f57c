package iampolicy

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

const fixtures = "../../testdata/iampolicy"

// TestParseAnyWrappers reads each committed fixture, one per shape a user
// may hand over.
func TestParseAnyWrappers(t *testing.T) {
	for _, tt := range []struct {
		file, name, wantAction, wantResource string
	}{
		{"get-policy-version.json", "get-policy-version", "s3:GetObject", "arn:aws:s3:::reports"},
		{"get-role-policy.json", "deploy-lambda", "lambda:UpdateFunctionCode", "arn:aws:lambda:us-east-1:111122223333:function:api-*"},
		{"bucket-policy.json", "bucket-policy", "s3:*", "arn:aws:s3:::reports"},
		{"trust.json", "trust", "sts:AssumeRole", ""},
	} {
		p, err := ParseFile(filepath.Join(fixtures, tt.file))
		if err != nil {
			t.Fatalf("%s: %v", tt.file, err)
		}
		s := p.Document.Statement[0]
		if p.Name != tt.name || p.Document.Version != Version || s.Action[0] != tt.wantAction {
			t.Errorf("%s: name %q, %+v", tt.file, p.Name, p.Document)
		}
		if tt.wantResource != "" && s.Resource[0] != tt.wantResource {
			t.Errorf("%s: resource %v", tt.file, s.Resource)
		}
	}
	// The wrapper and the bare document parse to the same thing.
	bare := []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}`)
	want, _, err := ParseAny(bare)
	if err != nil {
		t.Fatal(err)
	}
	quoted, _ := json.Marshal(string(bare))
	for _, w := range []string{
		`{"PolicyDocument":` + string(bare) + `}`,
		`{"PolicyVersion":{"Document":` + string(quoted) + `,"VersionId":"v1"}}`,
		`{"Document":` + string(bare) + `}`,
		`{"Policy":` + string(quoted) + `}`,
		string(quoted),
	} {
		got, _, err := ParseAny([]byte(w))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %v %+v", w, err, got)
		}
	}
	for _, bad := range []string{`{"PolicyDocument":"not json"}`, `{"Foo":1}`, `[1]`, ``} {
		if _, _, err := ParseAny([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if _, _, err := ParseAny([]byte(`{"Foo":1}`)); !errors.Is(err, ErrNotDocument) {
		t.Errorf("not a document: %v", err)
	}
	if _, err := ParseFile(filepath.Join(fixtures, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestParseManagedPolicies parses every AWS managed policy of the shared
// reference data and checks each survives a marshal round trip and
// validates as an identity policy.
func TestParseManagedPolicies(t *testing.T) {
	b, err := os.ReadFile("../../../shared/data/reference/aws-managed-policies/managed-policies.json")
	if err != nil {
		t.Skipf("needs ../shared/data (absent: %v); the embedded copy is tested in package managed", err)
	}
	var f struct {
		Policies []struct {
			Name     string          `json:"name"`
			Document json.RawMessage `json:"document"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Policies) != 1566 {
		t.Errorf("%d policies, want 1566", len(f.Policies))
	}
	stmts := 0
	for _, p := range f.Policies {
		d, err := Parse(p.Document)
		if err != nil {
			t.Errorf("%s: %v", p.Name, err)
			continue
		}
		stmts += len(d.Statement)
		if err := d.Validate(KindIdentity); err != nil {
			t.Errorf("%s: %v", p.Name, err)
		}
		out, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse(out)
		if err != nil || !reflect.DeepEqual(again, d) {
			t.Errorf("%s: round trip: %v", p.Name, err)
		}
	}
	t.Logf("%d policies, %d statements", len(f.Policies), stmts)
}

// TestParseGAAD parses every policy document of the shared
// get-account-authorization-details outputs: inline user, group and role
// policies, trust policies and managed policy versions.
func TestParseGAAD(t *testing.T) {
	files, _ := filepath.Glob("../../../shared/data/aws-outputs/gaad/*.json")
	if len(files) == 0 {
		t.Skip("needs ../shared/data/aws-outputs/gaad (absent)")
	}
	type inline struct {
		PolicyName     string          `json:"PolicyName"`
		PolicyDocument json.RawMessage `json:"PolicyDocument"`
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var g struct {
			UserDetailList []struct {
				UserPolicyList []inline `json:"UserPolicyList"`
			}
			GroupDetailList []struct {
				GroupPolicyList []inline `json:"GroupPolicyList"`
			}
			RoleDetailList []struct {
				AssumeRolePolicyDocument json.RawMessage
				RolePolicyList           []inline `json:"RolePolicyList"`
			}
			Policies []struct {
				PolicyName        string
				PolicyVersionList []struct {
					Document json.RawMessage
				}
			}
		}
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		n := 0
		check := func(what string, raw json.RawMessage, kind Kind) {
			n++
			d, err := Parse(raw)
			if err != nil {
				t.Errorf("%s %s: %v", filepath.Base(file), what, err)
				return
			}
			if err := d.Validate(kind); err != nil {
				t.Errorf("%s %s: %v", filepath.Base(file), what, err)
			}
		}
		for _, u := range g.UserDetailList {
			for _, p := range u.UserPolicyList {
				check("user policy "+p.PolicyName, p.PolicyDocument, KindIdentity)
			}
		}
		for _, gr := range g.GroupDetailList {
			for _, p := range gr.GroupPolicyList {
				check("group policy "+p.PolicyName, p.PolicyDocument, KindIdentity)
			}
		}
		for _, r := range g.RoleDetailList {
			check("trust policy", r.AssumeRolePolicyDocument, KindTrust)
			for _, p := range r.RolePolicyList {
				check("role policy "+p.PolicyName, p.PolicyDocument, KindIdentity)
			}
		}
		for _, p := range g.Policies {
			for _, v := range p.PolicyVersionList {
				check("managed policy "+p.PolicyName, v.Document, KindIdentity)
			}
		}
		if n < 20 {
			t.Errorf("%s: only %d documents", file, n)
		}
		t.Logf("%s: %d documents", filepath.Base(file), n)
	}
}
