package ingest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/ingest/store/s3store"
	"github.com/iamlens/iamlens/ingest/store/s3store/s3storetest"
)

// These tests hold the commit log to exactly-once with several writers on
// one store, in a folder and on the real S3 server (MinIO): two ingests
// racing over the same objects, and a writer killed between writing a
// batch's files and committing it.

// backend is a place for a store, opened again as another process would.
type backend struct {
	name   string
	open   func(t *testing.T) *store.Store
	s3     *s3store.Backend
	remote bool
}

func folderBackend(t *testing.T) backend {
	root := t.TempDir()
	return backend{name: "folder", open: func(t *testing.T) *store.Store {
		st, err := store.Open(root)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}}
}

func s3Backend(t *testing.T) backend {
	_, b := s3storetest.Store(t)
	return backend{name: "s3", remote: true, s3: b, open: func(t *testing.T) *store.Store { return s3storetest.Reopen(t, b) }}
}

func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	t.Run("folder", func(t *testing.T) { f(t, folderBackend(t)) })
	t.Run("s3", func(t *testing.T) {
		s3storetest.Client(t) // skips without the server
		f(t, s3Backend(t))
	})
}

// TestStoreOnS3 ingests the sample into a store on S3 and into one in a
// folder: every row and rollup row is the same, a second run reads
// nothing, and a store reopened (from its checkpoint and the records
// after it) knows every object.
func TestStoreOnS3(t *testing.T) {
	dir, _ := source.NewDir(ingesttest.Invictus(t))
	s3st, b := s3storetest.Store(t)
	s3st.CheckpointEvery = 8
	local := openStore(t)
	stats := runIngest(t, dir, s3st, ingest.Options{BatchBytes: 1, Workers: 2})
	runIngest(t, dir, local, ingest.Options{BatchBytes: 1, Workers: 2})
	if stats.RowsWritten != 2900 {
		t.Fatalf("wrote %d rows, want 2900", stats.RowsWritten)
	}
	key := func(r fullRow) string { return r.EventID }
	got, want := readAll(t, s3st), readAll(t, local)
	slices.SortFunc(got, func(a, b fullRow) int { return strings.Compare(key(a), key(b)) })
	slices.SortFunc(want, func(a, b fullRow) int { return strings.Compare(key(a), key(b)) })
	if len(got) != len(want) {
		t.Fatalf("%d rows on S3, %d in the folder", len(got), len(want))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d differs:\nS3:     %v\nfolder: %v", i, got[i], want[i])
		}
	}
	eachEventOnce(t, s3st, 2900, "on S3")

	before := b.Stats()
	again := s3storetest.Reopen(t, b)
	opened := b.Stats()
	if n := opened.Gets - before.Gets; n > 2 {
		t.Errorf("reopening read %d objects for %d batches: the checkpoint was not used", n, stats.Batches)
	}
	if n := again.ObjectCount(); n != 55 {
		t.Errorf("reopened store knows %d objects, want 55", n)
	}
	second := runIngest(t, dir, again, ingest.Options{})
	if second.ObjectsRead != 0 || second.ObjectsAlreadyIn != 55 {
		t.Errorf("second run read %d objects, skipped %d", second.ObjectsRead, second.ObjectsAlreadyIn)
	}
}

// TestRacingIngests runs two ingests of the same objects at once, each
// with its own view of one store (as two processes would), a batch per
// file so that their commits interleave: both finish, and every event is
// stored once. Whichever commits second finds the first's batches in the
// log, drops their events from its own and rewrites its files.
func TestRacingIngests(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		a, c := b.open(t), b.open(t)
		var wg sync.WaitGroup
		stats := make([]ingest.Stats, 2)
		errs := make([]error, 2)
		for i, st := range []*store.Store{a, c} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				dir, _ := source.NewDir(ingesttest.Invictus(t)) // each process its own
				stats[i], errs[i] = ingest.Run(context.Background(), dir, st, ingest.Options{BatchBytes: 1, Workers: 2})
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		if n := stats[0].RowsWritten + stats[1].RowsWritten; n != 2900 {
			t.Errorf("the two runs wrote %d + %d rows, want 2900 in all", stats[0].RowsWritten, stats[1].RowsWritten)
		}
		if stats[0].Duplicates+stats[1].Duplicates == 0 {
			t.Error("no duplicate dropped: the runs did not race")
		}
		t.Logf("%s: rows %d + %d, duplicates dropped %d + %d, batches %d + %d", b.name,
			stats[0].RowsWritten, stats[1].RowsWritten, stats[0].Duplicates, stats[1].Duplicates, stats[0].Batches, stats[1].Batches)
		eachEventOnce(t, b.open(t), 2900, "after the race")
	})
}

// TestKilledWriter kills a writer (another process, SIGKILL) after its
// first batches are committed, while the next one's files are written and
// not committed. The next run ingests the rest: every event once. The
// killed batch's files stay invisible until recovery removes them: at
// once in a folder (the dead process's lock is gone), on S3 once its run
// has missed its heartbeats for StaleAfter.
func TestKilledWriter(t *testing.T) {
	if os.Getenv("IAMLENS_KILL_ME") != "" {
		t.Skip("the helper process runs TestKilledWriterHelper")
	}
	eachBackend(t, func(t *testing.T, b backend) {
		marker := filepath.Join(t.TempDir(), "blocked")
		cmd := exec.Command(os.Args[0], "-test.run=^TestKilledWriterHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "IAMLENS_KILL_ME="+marker)
		if b.remote {
			cmd.Env = append(cmd.Env, "IAMLENS_KILL_STORE="+b.s3.URI())
		} else {
			cmd.Env = append(cmd.Env, "IAMLENS_KILL_STORE="+b.open(t).Root)
		}
		out, err := os.CreateTemp(t.TempDir(), "out")
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for {
			if _, err := os.Stat(marker); err == nil {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				cmd.Wait()
				log, _ := os.ReadFile(out.Name())
				t.Fatalf("the writer never reached its commit:\n%s", log)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		_ = cmd.Wait()
		blocked, _ := os.ReadFile(marker)
		killed := string(blocked)

		st := b.open(t)
		committed := readAll(t, st)
		if len(committed) == 0 || len(committed) >= 2900 {
			t.Fatalf("the killed writer committed %d rows: want some but not all", len(committed))
		}
		dir, _ := source.NewDir(ingesttest.Invictus(t))
		stats := runIngest(t, dir, st, ingest.Options{})
		if int(stats.RowsWritten)+len(committed) != 2900 {
			t.Errorf("resumed run wrote %d rows after %d: want 2900 in all", stats.RowsWritten, len(committed))
		}
		eachEventOnce(t, b.open(t), 2900, "after the killed writer")
		left := filesOf(t, b, killed)
		if b.remote {
			if len(left) == 0 {
				t.Fatal("the killed batch left no file: the writer was not killed mid-commit")
			}
			// Its run is not known dead yet; once it has missed its
			// heartbeats, recovery removes its files.
			late := b.open(t)
			late.StaleAfter = time.Nanosecond
			n, err := late.Recover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n != len(left) {
				t.Errorf("recovery removed %d files, want the %d of the killed run's uncommitted batches", n, len(left))
			}
			left = filesOf(t, b, killed)
		} else if stats.RecoveredOrphans == 0 {
			t.Error("the next run removed no file of the killed batch")
		}
		if len(left) > 0 {
			t.Errorf("files of the killed run's uncommitted batches (from %s) left: %v", killed, left)
		}
		eachEventOnce(t, b.open(t), 2900, "after recovery")
	})
}

// filesOf lists the store's files of the batches of from's run from from
// on (from and those after it).
func filesOf(t *testing.T, b backend, from string) []string {
	t.Helper()
	run := from[:strings.LastIndexByte(from, '_')]
	of := func(name string) bool {
		i := strings.Index(name, "part-"+run+"_")
		if i < 0 {
			return false
		}
		batch := name[i+len("part-"):]
		batch = batch[:strings.LastIndexByte(batch, '-')]
		return batch >= from
	}
	var out []string
	if b.remote {
		for _, table := range []string{"events/", "rollup/"} {
			err := b.s3.List(context.Background(), table, "", "", func(e store.Entry) error {
				if of(e.Name) {
					out = append(out, e.Name)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	root := b.open(t).Root
	_ = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && of(d.Name()) {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// TestKilledWriterHelper is the writer TestKilledWriter kills: it ingests
// the sample a batch per file and, at its sixth batch, writes the batch's
// ID to the marker file and waits to be killed.
func TestKilledWriterHelper(t *testing.T) {
	marker := os.Getenv("IAMLENS_KILL_ME")
	if marker == "" {
		t.Skip("run by TestKilledWriter")
	}
	var st *store.Store
	root := os.Getenv("IAMLENS_KILL_STORE")
	if rest, ok := strings.CutPrefix(root, "s3://"); ok {
		bucket, prefix, _ := strings.Cut(rest, "/")
		var err error
		if st, err = store.OpenRemote(context.Background(), s3store.New(s3storetest.Client(t), bucket, prefix)); err != nil {
			t.Fatal(err)
		}
	} else {
		var err error
		if st, err = store.Open(root); err != nil {
			t.Fatal(err)
		}
	}
	n := 0
	ingest.SetCommitHook(t, func(batch string) {
		if n++; n == 6 {
			// Written, then renamed into place: seen whole.
			if err := os.WriteFile(marker+".tmp", []byte(batch), 0o600); err != nil {
				t.Error(err)
			}
			if err := os.Rename(marker+".tmp", marker); err != nil {
				t.Error(err)
			}
			time.Sleep(time.Hour) // killed here
		}
	})
	dir, _ := source.NewDir(ingesttest.Invictus(t))
	_, err := ingest.Run(context.Background(), dir, st, ingest.Options{BatchBytes: 1, Workers: 1})
	t.Fatalf("the run ended (%v) instead of waiting to be killed", err)
}
