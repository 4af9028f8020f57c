package main

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store"
	"github.com/iamlens/iamlens/ingest/store/s3store/s3storetest"
)

// minioStore gives a test an empty store on the real MinIO server
// (skipping without it): its s3:// URI, the endpoint and the backend's
// bucket.
func minioStore(t *testing.T) (uri, endpoint string) {
	t.Helper()
	client := s3storetest.Client(t)
	ep, key, secret := s3storetest.Env()
	awsEnv(t, key, secret)
	return "s3://" + s3storetest.Bucket(t, client) + "/dataset", ep
}

// TestStoreOnS3Commands runs the commands that take --store on a store on
// S3 (--store s3://… with --store-endpoint-url) and on one in a folder,
// both filled from the sample: each prints the same, the store's name
// aside.
func TestStoreOnS3Commands(t *testing.T) {
	uri, ep := minioStore(t)
	local := filepath.Join(t.TempDir(), "store")
	for _, st := range []string{uri, local} {
		code, out, stderr := runCLI(t, "ingest", sampleDir, "--store", st, "--store-endpoint-url", ep, "--format", "json", "--compact-files", "0")
		if code != 0 || !strings.Contains(out, `"rows_written": 2900`) {
			t.Fatalf("ingest into %s: exit %d, %s\n%s", st, code, stderr, out)
		}
		if st == uri && !strings.Contains(out, `"store_requests"`) {
			t.Errorf("ingest into S3 says nothing of its requests:\n%s", out)
		}
	}
	for _, args := range [][]string{
		{"principals", "--format", "json"},
		{"principals", "--sort", "events"},
		{"analyze", "--principal", "benjamin", "--format", "json"},
		{"analyze", "--all", "--format", "json"},
		{"explain", "--principal", "benjamin", "--format", "json"},
		{"analyze", "--principal", "nobody-at-all"},
	} {
		run := func(st string) (int, string, string) {
			code, out, stderr := runCLI(t, append(args, "--store", st, "--store-endpoint-url", ep)...)
			if args[0] == "explain" {
				// In the order read: files named after batches that hold
				// the objects in whichever order the workers took them.
				lines := strings.Split(out, "\n")
				slices.Sort(lines)
				out = strings.Join(lines, "\n")
			}
			return code, strings.ReplaceAll(out, st, "STORE"), strings.ReplaceAll(stderr, st, "STORE")
		}
		c1, o1, e1 := run(uri)
		c2, o2, e2 := run(local)
		if c1 != c2 || o1 != o2 || e1 != e2 {
			t.Errorf("%v: on S3 exit %d, %d bytes, stderr %q; in a folder exit %d, %d bytes, stderr %q",
				args, c1, len(o1), e1, c2, len(o2), e2)
		}
		if c1 == 0 && len(o1) < 100 {
			t.Errorf("%v: printed %q", args, o1)
		}
	}
	// Compaction on S3, then the same answers.
	_, wantAll, _ := runCLI(t, "analyze", "--all", "--format", "json", "--store", uri, "--store-endpoint-url", ep)
	code, out, stderr := runCLI(t, "compact", "--store", uri, "--store-endpoint-url", ep, "--format", "json")
	if code != 0 || !strings.Contains(out, `"partitions_compacted": 1`) || !strings.Contains(out, `"store_requests"`) ||
		!strings.Contains(out, `"monthly_rollup"`) || strings.Contains(out, `"months": 0`) {
		t.Fatalf("compact: exit %d, %s\n%s", code, stderr, out)
	}
	if _, got, _ := runCLI(t, "analyze", "--all", "--format", "json", "--store", uri, "--store-endpoint-url", ep); got != wantAll {
		t.Error("analyze --all differs after compaction on S3")
	}
	// Read from the monthly rollup the compaction wrote: the same answers.
	for _, args := range [][]string{{"principals", "--format", "json"}, {"analyze", "--principal", "benjamin", "--format", "json"}} {
		_, want, _ := runCLI(t, append(args, "--store", local)...)
		if _, got, _ := runCLI(t, append(args, "--store", uri, "--store-endpoint-url", ep)...); strings.ReplaceAll(got, uri, "STORE") != strings.ReplaceAll(want, local, "STORE") {
			t.Errorf("%v differs on S3 after its compaction", args)
		}
	}
	code, out, stderr = runCLI(t, "compact", "--store", uri, "--store-endpoint-url", ep)
	if code != 0 || !strings.Contains(out, "monthly rollup          up to date") {
		t.Errorf("compact again: exit %d, %s\n%s", code, stderr, out)
	}
	// An unreachable store endpoint is an error that says so.
	code, _, stderr = runCLI(t, "principals", "--store", uri, "--store-endpoint-url", "http://"+closedPort(t))
	if code != exitError || !strings.Contains(stderr, "cannot reach S3") {
		t.Errorf("unreachable store: exit %d, %q", code, stderr)
	}
	// The environment names the endpoint too.
	t.Setenv("IAMLENS_STORE_ENDPOINT_URL", ep)
	if code, _, stderr := runCLI(t, "principals", "--store", uri); code != 0 {
		t.Errorf("IAMLENS_STORE_ENDPOINT_URL: exit %d, %s", code, stderr)
	}
}

// TestRangedReadsOnS3 reads one principal's usage from a store on S3 and
// from the same store in a folder: on S3 the reader fetches by ranges
// (footer and page index, then the principal's pages) and so reads about
// what the local reader reads, far less than the files.
func TestRangedReadsOnS3(t *testing.T) {
	client := s3storetest.Client(t)
	ctx := context.Background()
	// One large partition (80,000 events of one account's day, from the
	// sample's records) in files of several row groups, as a busy
	// account's are.
	logs := orgTrailLogs(t, ingesttest.OrgTrailOptions{Accounts: 1, Regions: 2, Days: 1, PerDay: 40, Records: 1000})
	dir, err := source.NewDir(logs)
	if err != nil {
		t.Fatal(err)
	}
	opts := ingest.Options{BatchBytes: 1 << 30}
	b := s3store.New(client, s3storetest.Bucket(t, client), "ds")
	remote, err := store.OpenRemote(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	local, err := store.Open(filepath.Join(t.TempDir(), "store"))
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range []*store.Store{remote, local} {
		if _, err := ingest.Run(ctx, dir, st, opts); err != nil {
			t.Fatal(err)
		}
	}
	files, _ := local.Files(nil, time.Time{}, time.Time{})
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := actionmap.New(cat)
	read := func(st *store.Store) (store.IOStats, []*analyzer.Usage) {
		before := st.IOStats()
		u, _, err := analyzer.Analyze(ctx, st, analyzer.Query{Principals: []string{"benjamin"}},
			analyzer.MapperFunc(func(c *actionmap.Call) actionmap.Result { return m.Map(c) }), analyzer.Options{})
		if err != nil {
			t.Fatal(err)
		}
		after := st.IOStats()
		return store.IOStats{Files: after.Files - before.Files, Requests: after.Requests - before.Requests, Bytes: after.Bytes - before.Bytes}, u
	}
	reopened, err := store.OpenRemote(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	getsBefore := b.Stats().Gets
	rs, ru := read(reopened)
	gets := b.Stats().Gets - getsBefore
	ls, lu := read(local)
	t.Logf("analyze --principal benjamin: S3 %d GETs, %d bytes; folder %d reads, %d bytes; events files %d bytes in %d files",
		gets, rs.Bytes, ls.Requests, ls.Bytes, total, len(files))
	if len(ru) != 1 || len(lu) != 1 || ru[0].Events != lu[0].Events {
		t.Fatalf("S3 and folder disagree: %d and %d usages", len(ru), len(lu))
	}
	if rs.Bytes >= total/4 {
		t.Errorf("S3 read %d bytes of %d: not by ranges", rs.Bytes, total)
	}
	if rs.Bytes > 2*ls.Bytes+int64(len(files))*(64<<10) {
		t.Errorf("S3 read %d bytes, the folder %d: more than twice, beyond the tails", rs.Bytes, ls.Bytes)
	}
}
