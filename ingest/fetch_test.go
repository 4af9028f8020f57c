package ingest_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
)

// slowSource answers each Open after a delay, as S3 does, and records how
// many objects, and how many of their stored bytes, were open at once
// (from Open until the body is closed).
type slowSource struct {
	ingest.Source
	delay time.Duration
	sizes map[string]int64

	mu                sync.Mutex
	open, bytes       int64
	maxOpen, maxBytes int64
}

func (s *slowSource) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	s.mu.Lock()
	s.open++
	s.bytes += s.sizes[key]
	s.maxOpen = max(s.maxOpen, s.open)
	s.maxBytes = max(s.maxBytes, s.bytes)
	s.mu.Unlock()
	time.Sleep(s.delay)
	rc, err := s.Source.Open(ctx, key)
	if err != nil {
		s.closed(key)
		return nil, err
	}
	return &trackedBody{ReadCloser: rc, done: func() { s.closed(key) }}, nil
}

func (s *slowSource) closed(key string) {
	s.mu.Lock()
	s.open--
	s.bytes -= s.sizes[key]
	s.mu.Unlock()
}

type trackedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *trackedBody) Close() error {
	b.once.Do(b.done)
	return b.ReadCloser.Close()
}

// slowDir writes n gzip log files of 20 records each and returns them as a
// slowSource.
func slowDir(t testing.TB, n int, delay time.Duration) (*slowSource, int) {
	dir := t.TempDir()
	sizes := map[string]int64{}
	rows := 0
	for f := range n {
		var recs []ingesttest.Record
		for i := range 20 {
			recs = append(recs, ingesttest.NewRecord(fmt.Sprintf("00000000-0000-4000-8000-%04d%08d", f, i), "2026-11-01T10:00:00Z", "alice", "s3.amazonaws.com", "ListBuckets"))
			rows++
		}
		key := ingesttest.Key("111122223333", "us-east-1", "2026/11/01", f)
		path := ingesttest.WriteFile(t, dir, key, ingesttest.Gzip(t, ingesttest.LogJSON(t, recs...)))
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(dir, path)
		sizes[filepath.ToSlash(rel)] = fi.Size()
	}
	src, err := source.NewDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &slowSource{Source: src, delay: delay, sizes: sizes}, rows
}

// TestFetchersOverlapSlowOpens: with one worker, objects are still fetched
// several at a time, never more than Fetchers, and every row lands once.
func TestFetchersOverlapSlowOpens(t *testing.T) {
	src, rows := slowDir(t, 40, 20*time.Millisecond)
	st := openStore(t)
	stats := runIngest(t, src, st, ingest.Options{Workers: 1, Fetchers: 8})
	if stats.RowsWritten != int64(rows) || stats.ObjectsRead != 40 {
		t.Fatalf("rows %d of %d, objects %d", stats.RowsWritten, rows, stats.ObjectsRead)
	}
	if src.maxOpen < 4 || src.maxOpen > 8 {
		t.Fatalf("%d objects open at once with 8 fetchers", src.maxOpen)
	}
	storedOnce(t, st, rows)
}

// TestFetchBytesBound: the stored bytes read ahead of the workers stay
// within FetchBytes, and an object larger than the budget is still read
// (alone).
func TestFetchBytesBound(t *testing.T) {
	src, rows := slowDir(t, 24, 5*time.Millisecond)
	var largest int64
	for _, n := range src.sizes {
		largest = max(largest, n)
	}
	for _, budget := range []int64{largest * 5 / 2, largest / 2} {
		src.maxOpen, src.maxBytes = 0, 0
		st := openStore(t)
		stats := runIngest(t, src, st, ingest.Options{Workers: 2, Fetchers: 8, FetchBytes: budget})
		if stats.RowsWritten != int64(rows) {
			t.Fatalf("budget %d: rows %d of %d", budget, stats.RowsWritten, rows)
		}
		if budget > largest && src.maxBytes > budget {
			t.Errorf("budget %d: %d bytes open at once", budget, src.maxBytes)
		}
		if budget < largest && src.maxOpen != 1 {
			t.Errorf("budget %d below an object's size: %d objects open at once, want 1", budget, src.maxOpen)
		}
		storedOnce(t, st, rows)
	}
}

// BenchmarkIngestSlowSource: 64 small objects from a source that answers
// each request after 5 ms (S3 from the same region answers small GETs in
// roughly that time or more), decoded by 2 workers, with 2 and 16
// fetchers.
func BenchmarkIngestSlowSource(b *testing.B) {
	src, rows := slowDir(b, 64, 5*time.Millisecond)
	for _, fetchers := range []int{2, 16} {
		b.Run(fmt.Sprintf("fetchers=%d", fetchers), func(b *testing.B) {
			i := 0
			for b.Loop() {
				stats, err := ingest.Run(context.Background(), src, freshStore(b, &i), ingest.Options{Workers: 2, Fetchers: fetchers})
				if err != nil || stats.RowsWritten != int64(rows) {
					b.Fatalf("rows %d, err %v", stats.RowsWritten, err)
				}
			}
		})
	}
}
