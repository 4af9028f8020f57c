package analyzer

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// pathsStore holds a role session of arn:aws:iam::111122223333:role/ci/deploy
// and alice's calls naming that role, and a user bob the logs never show,
// by name only.
func pathsStore(t *testing.T) *store.Store {
	t.Helper()
	session := ingesttest.NewRecord("e-1", "2026-10-31T10:00:00Z", "x", "s3.amazonaws.com", "ListBuckets")
	session["userIdentity"] = map[string]any{
		"type": "AssumedRole", "principalId": "AROAEXAMPLE:s", "accountId": "111122223333",
		"arn": "arn:aws:sts::111122223333:assumed-role/deploy/s",
		"sessionContext": map[string]any{"sessionIssuer": map[string]any{
			"type": "Role", "arn": "arn:aws:iam::111122223333:role/ci/deploy", "accountId": "111122223333", "userName": "deploy"}},
	}
	getRole := ingesttest.NewRecord("e-2", "2026-11-01T10:01:00Z", "alice", "iam.amazonaws.com", "GetRole")
	getRole["requestParameters"] = map[string]any{"roleName": "deploy"}
	getUser := ingesttest.NewRecord("e-3", "2026-11-01T10:02:00Z", "alice", "iam.amazonaws.com", "GetUser")
	getUser["requestParameters"] = map[string]any{"userName": "bob"}
	dir := t.TempDir()
	// two days, so two files: the session's principal index is not the
	// one alice's rows are in
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/10/31", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, session)))
	ingesttest.WriteFile(t, dir, ingesttest.Key("111122223333", "us-east-1", "2026/11/01", 0), ingesttest.Gzip(t, ingesttest.LogJSON(t, getRole, getUser)))
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), src, st, ingest.Options{Workers: 1}); err != nil {
		t.Fatal(err)
	}
	return st
}

func resourcesOf(u *Usage, action string) []string {
	for _, a := range u.Allowed {
		if a.Action == action {
			var out []string
			for _, r := range a.Resources {
				out = append(out, r.ARN)
			}
			return out
		}
	}
	return nil
}

// TestLearnPaths: alice names the role deploy by name; the role's own
// sessions, in another file, show its path, which analyze learns from the
// principal indexes (and only then: the role's own analysis needs none).
// bob's path shows nowhere: both forms are written.
func TestLearnPaths(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Skip(err)
	}
	st := pathsStore(t)
	from := time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	analyze := func(principal string, paths *actionmap.Paths) (*Usage, Stats) {
		t.Helper()
		us, stats, err := Analyze(context.Background(), st, Query{Principals: []string{principal}, From: from},
			actionmap.New(cat).WithPaths(paths), Options{Paths: paths})
		if err != nil || len(us) != 1 {
			t.Fatalf("%s: %v %d", principal, err, len(us))
		}
		return us[0], stats
	}

	u, stats := analyze("alice", actionmap.NewPaths())
	if got := resourcesOf(u, "iam:GetRole"); !slices.Equal(got, []string{"arn:aws:iam::111122223333:role/ci/deploy"}) {
		t.Errorf("GetRole of deploy: %v", got)
	}
	if got := resourcesOf(u, "iam:GetUser"); !slices.Equal(got, []string{"arn:aws:iam::111122223333:user/*/bob", "arn:aws:iam::111122223333:user/bob"}) {
		t.Errorf("GetUser of bob: %v", got)
	}
	if stats.PathIndexes == 0 {
		t.Error("the principal indexes were not read")
	}

	_, stats = analyze("arn:aws:iam::111122223333:role/ci/deploy", actionmap.NewPaths())
	if stats.PathIndexes != 0 {
		t.Errorf("a principal that names nobody read %d principal indexes", stats.PathIndexes)
	}

	// the account state's path stands over the logs'
	paths := actionmap.NewPaths()
	paths.LearnState("arn:aws:iam::111122223333:role/moved/deploy")
	paths.LearnState("arn:aws:iam::111122223333:user/staff/bob")
	u, stats = analyze("alice", paths)
	if got := resourcesOf(u, "iam:GetRole"); !slices.Equal(got, []string{"arn:aws:iam::111122223333:role/moved/deploy"}) {
		t.Errorf("GetRole with the state: %v", got)
	}
	if got := resourcesOf(u, "iam:GetUser"); !slices.Equal(got, []string{"arn:aws:iam::111122223333:user/staff/bob"}) {
		t.Errorf("GetUser with the state: %v", got)
	}
	if stats.PathIndexes != 0 {
		t.Errorf("the state named everyone, yet %d principal indexes were read", stats.PathIndexes)
	}
}

// TestStatePaths reads the paths of a real get-account-authorization-details
// output (cloudsplaining's example, testdata/iamstate).
func TestStatePaths(t *testing.T) {
	in, err := iamstate.Files{GAAD: filepath.Join("..", "testdata", "iamstate", "cloudsplaining", "example-excerpt.json")}.Load()
	if err != nil {
		t.Fatal(err)
	}
	paths := actionmap.NewPaths()
	n := StatePaths(iamstate.Build(in), paths)
	if n < 10 {
		t.Fatalf("only %d ARNs read", n)
	}
	for _, tt := range []struct{ kind, name, path string }{
		{"role", "AWSReservedSSO_AdministratorAccess_dc6414f7f2ab04fc", "/aws-reserved/sso.amazonaws.com/"},
		{"role", "AWSServiceRoleForAmazonSSM", "/aws-service-role/ssm.amazonaws.com/"},
		{"user", "privesc-sre-user", "/"},
		{"group", "privesc-sre-group", "/"},
		{"policy", "privesc-sre-admin-policy", "/"},
	} {
		if got, ok := paths.Path("aws", "200611803367", tt.kind, tt.name); !ok || got != tt.path {
			t.Errorf("%s %s: %q %v, want %q", tt.kind, tt.name, got, ok, tt.path)
		}
	}
	if _, ok := paths.Path("aws", "aws", "policy", "AdministratorAccess"); ok {
		t.Error("an AWS managed policy was learned as the account's")
	}
}
