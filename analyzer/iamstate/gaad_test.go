package iamstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// testdata is the repository's testdata/iamstate.
func testdata(parts ...string) string {
	return filepath.Join(append([]string{"..", "..", "testdata", "iamstate"}, parts...)...)
}

// sharedOutputs is ../shared/data/aws-outputs; the test is skipped when
// the shared data is absent (a fresh clone).
func sharedOutputs(t *testing.T, parts ...string) string {
	t.Helper()
	return filepath.Join(append([]string{ingesttest.SharedData(t), "aws-outputs"}, parts...)...)
}

func readGAADFile(t *testing.T, path string) *AuthorizationDetails {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d, err := ReadGAAD(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return d
}

// gaadFiles are the GAAD outputs the tests read: the committed excerpts
// always, the full files of ../shared when present.
func gaadFiles(t *testing.T) []string {
	files := []string{
		testdata("cloudsplaining", "example-authz-details-excerpt.json"),
		testdata("cloudsplaining", "example-excerpt.json"),
		testdata("aws-cli", "iam.get-account-authorization-details.output1.json"),
	}
	if haveShared(t) {
		files = append(files,
			sharedOutputs(t, "gaad", "cloudsplaining-examples-files-example.json"),
			sharedOutputs(t, "gaad", "cloudsplaining-test-files-example-authz-details.json"),
			sharedOutputs(t, "aws-cli-examples", "json", "iam.get-account-authorization-details.output1.json"))
	}
	return files
}

// haveShared reports whether ../shared/data is beside the repository;
// without it the tests read the committed copies only, and say so.
func haveShared(t *testing.T) bool {
	if _, err := os.Stat(filepath.Join("..", "..", "..", "shared", "data")); err != nil {
		t.Log("../shared/data is absent: only the committed copies in testdata/iamstate are read")
		return false
	}
	return true
}

// TestReadGAADFiles reads real GAAD outputs and compares them with a
// generic JSON decode: the same entries, every inline, trust and version
// document parsed into iampolicy.Document with as many statements as the
// file holds, and nothing reported as a problem.
func TestReadGAADFiles(t *testing.T) {
	for _, path := range gaadFiles(t) {
		t.Run(filepath.Base(filepath.Dir(path))+"/"+filepath.Base(path), func(t *testing.T) {
			d := readGAADFile(t, path)
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			var lists struct{ UserDetailList, GroupDetailList, RoleDetailList, Policies []map[string]any }
			if err := json.Unmarshal(raw, &lists); err != nil {
				t.Fatal(err)
			}
			generic := map[string][]map[string]any{"UserDetailList": lists.UserDetailList, "GroupDetailList": lists.GroupDetailList,
				"RoleDetailList": lists.RoleDetailList, "Policies": lists.Policies}
			if len(d.UserDetailList) != len(generic["UserDetailList"]) || len(d.GroupDetailList) != len(generic["GroupDetailList"]) ||
				len(d.RoleDetailList) != len(generic["RoleDetailList"]) || len(d.Policies) != len(generic["Policies"]) {
				t.Fatalf("counts differ from the file's")
			}
			docs := 0
			for i, p := range d.Policies {
				gvs := generic["Policies"][i]["PolicyVersionList"].([]any)
				for j, v := range p.PolicyVersionList {
					docs++
					want := statements(gvs[j].(map[string]any)["Document"])
					doc, err := v.Document.Document()
					if err != nil || len(doc.Statement) != want {
						t.Errorf("%s %s: %v statements, want %d (%v)", p.Arn, v.VersionId, doc, want, err)
					}
				}
			}
			for i, r := range d.RoleDetailList {
				docs++
				want := statements(generic["RoleDetailList"][i]["AssumeRolePolicyDocument"])
				if doc, err := r.AssumeRolePolicyDocument.Document(); err != nil || len(doc.Statement) != want {
					t.Errorf("%s trust policy: %v (%v)", r.Arn, doc, err)
				}
			}
			a := Build(&Input{Outputs: Outputs{AuthorizationDetails: d}})
			if len(a.Problems) != 0 {
				t.Errorf("problems: %v", a.Problems)
			}
			if a.ID == "" || a.Partition != "aws" {
				t.Errorf("account %q partition %q from the ARNs", a.ID, a.Partition)
			}
			for i, u := range a.Users {
				g := generic["UserDetailList"][i]
				if u.ARN != g["Arn"] || u.Path != g["Path"] || u.Name != g["UserName"] || u.CreateDate.IsZero() {
					t.Errorf("user %d: %+v", i, u)
				}
				if p, ok := a.Path(KindUser, u.Name); !ok || p != g["Path"] {
					t.Errorf("Path(user, %s) = %q, %v", u.Name, p, ok)
				}
				if a.UserByARN(u.ARN) != u {
					t.Errorf("UserByARN(%s)", u.ARN)
				}
			}
			t.Logf("%d users, %d groups, %d roles, %d policies, %d documents", len(a.Users), len(a.Groups), len(a.Roles), len(a.Policies), docs)
		})
	}
}

// statements counts a generic document's statements (one object or a
// list).
func statements(doc any) int {
	m, ok := doc.(map[string]any)
	if !ok {
		return -1
	}
	if l, ok := m["Statement"].([]any); ok {
		return len(l)
	}
	return 1
}

// TestFullCloudsplainingCounts checks the counts the data README gives.
func TestFullCloudsplainingCounts(t *testing.T) {
	d := readGAADFile(t, sharedOutputs(t, "gaad", "cloudsplaining-examples-files-example.json"))
	if len(d.UserDetailList) != 44 || len(d.GroupDetailList) != 5 || len(d.RoleDetailList) != 78 || len(d.Policies) != 84 {
		t.Errorf("got %d users %d groups %d roles %d policies", len(d.UserDetailList), len(d.GroupDetailList), len(d.RoleDetailList), len(d.Policies))
	}
	a := Build(&Input{Outputs: Outputs{AuthorizationDetails: d}})
	var sso, linked int
	for _, r := range a.Roles {
		if r.IdentityCenter {
			sso++
		}
		if r.ServiceLinked {
			linked++
		}
	}
	if a.ID != "200611803367" || sso != 2 || linked != 8 {
		t.Errorf("account %s: %d Identity Center roles (want 2), %d service-linked (want 8)", a.ID, sso, linked)
	}
}

// TestAWSCLIExampleShapes: the CLI documentation's example lists two
// groups' AttachedManagedPolicies as one object each.
func TestAWSCLIExampleShapes(t *testing.T) {
	d := readGAADFile(t, testdata("aws-cli", "iam.get-account-authorization-details.output1.json"))
	a := Build(&Input{Outputs: Outputs{AuthorizationDetails: d}})
	admins := a.Group("Admins")
	if admins == nil || len(admins.AttachedPolicies) != 1 || admins.AttachedPolicies[0].PolicyArn != "arn:aws:iam::aws:policy/AdministratorAccess" {
		t.Fatalf("Admins: %+v", admins)
	}
	role := a.Role("EC2role")
	if role == nil || len(role.InstanceProfiles) != 1 || role.InstanceProfiles[0].InstanceProfileName != "EC2role" ||
		role.LastUsed.Region != "us-west-2" || role.LastUsed.LastUsedDate.Format("2006-01-02") != "2019-11-13" ||
		role.TrustPolicy == nil || role.TrustPolicy.Statement[0].Principal.Types["Service"][0] != "ec2.amazonaws.com" {
		t.Errorf("EC2role: %+v", role)
	}
}

// TestReadGAADPages merges pages given one after the other or as a list,
// and rejects what is not GAAD.
func TestReadGAADPages(t *testing.T) {
	p1 := `{"UserDetailList":[{"UserName":"a","Arn":"arn:aws:iam::111122223333:user/a"}],"GroupDetailList":[],"RoleDetailList":[],"Policies":[],"IsTruncated":true,"Marker":"m"}`
	p2 := `{"UserDetailList":[{"UserName":"b","Arn":"arn:aws:iam::111122223333:user/ops/b","Path":"/ops/"}],"RoleDetailList":[{"RoleName":"r","Arn":"arn:aws:iam::111122223333:role/r"}],"IsTruncated":false}`
	for name, in := range map[string]string{"stream": p1 + "\n" + p2, "list": "[" + p1 + "," + p2 + "]"} {
		d, err := ReadGAAD(strings.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(d.UserDetailList) != 2 || d.UserDetailList[1].UserName != "b" || len(d.RoleDetailList) != 1 {
			t.Errorf("%s: %+v", name, d)
		}
	}
	for _, bad := range []string{"", "{}", `{"Users":[]}`, p1 + " {", `[{"UserDetailList":5}]`, `{"RoleDetailList":[{"RoleName":"r","AssumeRolePolicyDocument":"not json"}]}`} {
		if _, err := ReadGAAD(strings.NewReader(bad)); err == nil {
			t.Errorf("%q: read", bad)
		}
	}
	_, err := ReadGAAD(strings.NewReader(`{"RoleDetailList":[{"RoleName":"r","AssumeRolePolicyDocument":"%7Bnope"}]}`))
	if !errors.Is(err, ErrNotPolicyText) {
		t.Errorf("a broken URL-encoded document: %v", err)
	}
}

// TestPolicyTextForms: a document given as an object, a JSON string or a
// URL-encoded string keeps the object's text, and writes it back as is.
func TestPolicyTextForms(t *testing.T) {
	const doc = `{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}`
	quoted, _ := json.Marshal(doc)
	encoded, _ := json.Marshal(url.QueryEscape(doc))
	for name, in := range map[string]string{"object": doc, "string": string(quoted), "url-encoded": string(encoded)} {
		var p PolicyText
		if err := json.Unmarshal([]byte(in), &p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if string(p) != doc {
			t.Errorf("%s: text %s", name, p)
		}
		out, err := json.Marshal(PolicyDetail{PolicyName: "p", PolicyDocument: p})
		if err != nil || !bytes.Contains(out, []byte(`"PolicyDocument":`+compact(doc))) {
			t.Errorf("%s: marshalled %s, %v", name, out, err)
		}
		d, err := p.Document()
		if err != nil || len(d.Statement) != 1 || d.Statement[0].Action[0] != "s3:GetObject" {
			t.Errorf("%s: document %+v, %v", name, d, err)
		}
	}
	var empty PolicyText
	if err := json.Unmarshal([]byte("null"), &empty); err != nil || empty != nil {
		t.Errorf("null: %v %v", empty, err)
	}
	if _, err := empty.Document(); err == nil {
		t.Error("an empty text parsed")
	}
	// A document that is JSON but not a policy is kept, and reported by
	// Build rather than failing the read.
	d, err := ReadGAAD(strings.NewReader(`{"UserDetailList":[{"UserName":"u","Arn":"arn:aws:iam::111122223333:user/u","UserPolicyList":[{"PolicyName":"odd","PolicyDocument":{"Version":"2012-10-17"}}]}]}`))
	if err != nil {
		t.Fatal(err)
	}
	a := Build(&Input{Outputs: Outputs{AuthorizationDetails: d}})
	if len(a.Problems) != 1 || !strings.Contains(a.Problems[0].String(), "user u inline policy odd") || a.User("u").InlinePolicies[0].Document != nil {
		t.Errorf("problems %v", a.Problems)
	}
}

func compact(s string) string {
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		panic(err)
	}
	return b.String()
}
