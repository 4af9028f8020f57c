package explain_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/explain"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// nameMapper maps every call to eventSource:eventName, so the tests check
// the walking and filtering, not the catalogue.
type nameMapper struct{}

func (nameMapper) Map(c *actionmap.Call) actionmap.Result {
	return actionmap.Result{Status: actionmap.Mapped, Actions: []actionmap.Action{{Name: c.EventSource + ":" + c.EventName}}}
}

func mixed(t *testing.T) string {
	return filepath.Join(ingesttest.RepoRoot(t), "testdata", "explain", "mixed.json")
}

func collect(t *testing.T, run func(emit func(*explain.Explanation) error) (explain.Stats, error)) ([]*explain.Explanation, explain.Stats, error) {
	t.Helper()
	var got []*explain.Explanation
	stats, err := run(func(e *explain.Explanation) error { got = append(got, e); return nil })
	return got, stats, err
}

func files(t *testing.T, inputs []string, f explain.Filter, stdin []byte) ([]*explain.Explanation, explain.Stats, error) {
	t.Helper()
	return collect(t, func(emit func(*explain.Explanation) error) (explain.Stats, error) {
		return explain.Files(context.Background(), inputs, f, explain.Options{Mapper: nameMapper{}, Stdin: bytes.NewReader(stdin)}, emit)
	})
}

func ids(es []*explain.Explanation) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.EventID)
	}
	return out
}

// TestFilesPrincipals: --principal takes ARNs, names and globs, as analyze
// does, on files.
func TestFilesPrincipals(t *testing.T) {
	for _, tt := range []struct {
		principals []string
		want       []string
	}{
		// CheckMfa's userIdentity has no ARN; the principal is built from its name
		{[]string{"arn:aws:iam::123837392027:user/bert-jan"}, []string{"1fb0962b-8d29-4ea5-b0f3-b12665a99c40", "74b4a7d6-764d-4ec8-bbd4-91e7a84e6780"}},
		{[]string{"benjamin"}, []string{"3c856bc0-1a07-4c18-89d9-4d9205856714"}},
		{[]string{"b*"}, []string{"1fb0962b-8d29-4ea5-b0f3-b12665a99c40", "74b4a7d6-764d-4ec8-bbd4-91e7a84e6780", "3c856bc0-1a07-4c18-89d9-4d9205856714"}},
		{[]string{"*:role/stratus-*"}, []string{"fbd91225-39aa-4c00-822c-9f0b96e7758f"}},
		{[]string{"benjamin", "AWSServiceRoleForAmazonInspector2"}, []string{"3bcc9d61-5936-429a-8b49-d5cb8e7b0e06", "3c856bc0-1a07-4c18-89d9-4d9205856714"}},
	} {
		got, stats, err := files(t, []string{mixed(t)}, explain.Filter{Principals: tt.principals}, nil)
		if err != nil {
			t.Errorf("%q: %v", tt.principals, err)
			continue
		}
		if !slices.Equal(ids(got), tt.want) || stats.Records != 7 || stats.Explained != len(tt.want) {
			t.Errorf("%q: %q (%+v), want %q", tt.principals, ids(got), stats, tt.want)
		}
	}
}

// TestFilesNotFound: a principal that matches no record is a NotFoundError
// naming the principals that come close.
func TestFilesNotFound(t *testing.T) {
	_, _, err := files(t, []string{mixed(t)}, explain.Filter{Principals: []string{"benjamin", "bert-jn"}}, nil)
	var nf *analyzer.NotFoundError
	if !errors.As(err, &nf) || nf.Principal != "bert-jn" || !slices.Contains(nf.Close, "arn:aws:iam::123837392027:user/bert-jan") {
		t.Fatalf("%v (%+v)", err, nf)
	}
	if _, _, err := files(t, []string{mixed(t)}, explain.Filter{Principals: []string{"nobody-at-all-here"}}, nil); !errors.As(err, &nf) || len(nf.Close) != 0 {
		t.Errorf("no close names: %v %+v", err, nf)
	}
}

// TestFilesBadFileInFolder: a folder's bad files are skipped and listed;
// the good ones are explained. A bad file named on its own is an error, a
// missing input an InputError.
func TestFilesBadFileInFolder(t *testing.T) {
	dir := t.TempDir()
	good := ingesttest.NewRecord("33333333-0000-4000-8000-000000000001", "2026-11-01T10:00:00Z", "alice", "s3.amazonaws.com", "ListBuckets")
	ingesttest.WriteFile(t, dir, "a-good.json.gz", ingesttest.Gzip(t, ingesttest.LogJSON(t, good)))
	gz := ingesttest.Gzip(t, ingesttest.LogJSON(t, good))
	bad := ingesttest.WriteFile(t, dir, "b-truncated.json.gz", gz[:len(gz)/2])
	ingesttest.WriteFile(t, dir, "c-invalid.json", []byte(`{"Records":[{"eventID":`))
	ingesttest.WriteFile(t, dir, "d-other.json", []byte(`{"not":"a log"}`))
	ingesttest.WriteFile(t, dir, "notes.txt", []byte("skipped by name"))
	got, stats, err := files(t, []string{dir}, explain.Filter{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var bads []string
	for _, b := range stats.BadFiles {
		bads = append(bads, filepath.Base(b.File)+": "+b.Reason)
	}
	want := []string{"b-truncated.json.gz: corrupt or truncated gzip", "c-invalid.json: invalid JSON", "d-other.json: no Records array"}
	if len(got) != 1 || stats.Files != 1 || stats.SkippedByName != 1 || len(bads) != 3 {
		t.Fatalf("%d explained, %+v", len(got), stats)
	}
	for i, w := range want {
		if !strings.HasPrefix(bads[i], w) {
			t.Errorf("bad file %d: %q, want %q…", i, bads[i], w)
		}
	}
	if _, _, err := files(t, []string{bad}, explain.Filter{}, nil); err == nil || !strings.Contains(err.Error(), "b-truncated.json.gz: corrupt or truncated gzip") {
		t.Errorf("a bad file named on its own: %v", err)
	}
	var ie *explain.InputError
	if _, _, err := files(t, []string{filepath.Join(dir, "missing.json")}, explain.Filter{}, nil); !errors.As(err, &ie) {
		t.Errorf("a missing input: %v", err)
	}
}

// TestFilesStdin: "-" reads standard input by content, gzipped or not.
func TestFilesStdin(t *testing.T) {
	rec := ingesttest.NewRecord("33333333-0000-4000-8000-000000000002", "2026-11-01T10:00:00Z", "alice", "iam.amazonaws.com", "ListUsers")
	one, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	for name, in := range map[string][]byte{"record": one, "gzipped log": ingesttest.Gzip(t, ingesttest.LogJSON(t, rec))} {
		got, _, err := files(t, []string{"-"}, explain.Filter{}, in)
		if err != nil || len(got) != 1 || got[0].Source != explain.StdinName || got[0].Event != "iam.amazonaws.com:ListUsers" ||
			got[0].Principal != "arn:aws:iam::111122223333:user/alice" {
			t.Errorf("%s: %v %+v", name, err, got)
		}
	}
	if _, _, err := files(t, []string{"-"}, explain.Filter{}, []byte("not json")); err == nil || !strings.Contains(err.Error(), explain.StdinName) {
		t.Errorf("bad standard input: %v", err)
	}
}

// sampleStore ingests testdata/sample.
func sampleStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(ingesttest.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), src, st, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	return st
}

// sampleIDsOf lists, with encoding/json, the event IDs of the sample's
// records by IAM users whose name starts with prefix.
func sampleIDsOf(t *testing.T, prefix string) []string {
	t.Helper()
	var out []string
	ingesttest.LogFiles(t, ingesttest.Sample(t), func(p string, data []byte) {
		var log struct {
			Records []struct {
				EventID      string `json:"eventID"`
				UserIdentity struct{ Type, UserName string }
			}
		}
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&log); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		for _, r := range log.Records {
			if r.UserIdentity.Type == "IAMUser" && strings.HasPrefix(r.UserIdentity.UserName, prefix) {
				out = append(out, r.EventID)
			}
		}
	})
	sort.Strings(out)
	return out
}

// TestDataset: names and globs resolve against the dataset; the records
// explained are the principal's, counted independently; a name that
// matches nobody, or an ARN without events, is a NotFoundError with close
// names.
func TestDataset(t *testing.T) {
	st := sampleStore(t)
	opts := explain.Options{Mapper: nameMapper{}}
	run := func(f explain.Filter) ([]*explain.Explanation, error) {
		got, _, err := collect(t, func(emit func(*explain.Explanation) error) (explain.Stats, error) {
			return explain.Dataset(context.Background(), st, f, opts, emit)
		})
		return got, err
	}
	for _, p := range []string{"benjamin", "arn:aws:iam::123837392027:user/benjamin", "benj*"} {
		got, err := run(explain.Filter{Principals: []string{p}})
		gotIDs := ids(got)
		sort.Strings(gotIDs)
		if want := sampleIDsOf(t, "benjamin"); err != nil || !slices.Equal(gotIDs, want) {
			t.Errorf("%s: %v, %d records, want %d", p, err, len(gotIDs), len(want))
		}
	}
	var nf *analyzer.NotFoundError
	for _, p := range []string{"benjamn", "arn:aws:iam::123837392027:user/benjamn"} {
		if _, err := run(explain.Filter{Principals: []string{p}}); !errors.As(err, &nf) || !slices.Contains(nf.Close, "arn:aws:iam::123837392027:user/benjamin") {
			t.Errorf("%s: %v %+v", p, err, nf)
		}
	}
	got, err := run(explain.Filter{EventIDs: []string{"3bcc9d61-5936-429a-8b49-d5cb8e7b0e06"}})
	if err != nil || len(got) != 1 || !strings.Contains(got[0].Principal, "AWSServiceRoleForAmazonInspector2") {
		t.Errorf("--event-id: %v %+v", err, got)
	}
}
