// Command floor measures the least any CloudTrail ingest can cost: list the
// files of a corpus, read them and gunzip them on every core, and nothing
// else. By default it reads each file as ingest does (cloudtrail.Reader:
// whole, then decompressed by ingest/gunzip, the fastest gunzip in Go we
// know of); -gunzip klauspost streams through klauspost/compress's reader
// instead, the fastest general-purpose one.
//
//	go run ./bench/floor bench/out/corpus
//	go run ./bench/floor -gunzip klauspost bench/out/corpus
package main

import (
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/klauspost/compress/gzip"
)

func main() {
	impl := flag.String("gunzip", "iamlens", "gunzip implementation: iamlens (whole files) or klauspost (streaming)")
	flag.Parse()
	if flag.NArg() != 1 || (*impl != "iamlens" && *impl != "klauspost") {
		log.Fatal("usage: floor [-gunzip iamlens|klauspost] CORPUS_DIR")
	}
	start := time.Now()
	paths := make(chan string, 64)
	var raw, inflated atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < runtime.NumCPU(); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var zr *gzip.Reader
			var rd cloudtrail.Reader
			buf := make([]byte, 256<<10)
			for p := range paths {
				f, err := os.Open(p)
				if err != nil {
					log.Fatal(err)
				}
				st, _ := f.Stat()
				raw.Add(st.Size())
				if *impl == "iamlens" {
					out, err := rd.Read(f) // ingest's own read: whole, then ingest/gunzip
					if err != nil {
						log.Fatalf("%s: %v", p, err)
					}
					inflated.Add(int64(len(out)))
					f.Close()
					continue
				}
				if zr == nil {
					zr, err = gzip.NewReader(f)
				} else {
					err = zr.Reset(f)
				}
				if err != nil {
					log.Fatal(err)
				}
				for {
					n, err := zr.Read(buf)
					inflated.Add(int64(n))
					if err == io.EOF {
						break
					}
					if err != nil {
						log.Fatal(err)
					}
				}
				f.Close()
			}
		}()
	}
	err := filepath.WalkDir(flag.Arg(0), func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json.gz") {
			paths <- p
		}
		return err
	})
	close(paths)
	wg.Wait()
	if err != nil {
		log.Fatal(err)
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("floor\t%.2f s\t%.1f MB/s of JSON\t%d MiB gzipped\t%d MiB JSON\n", secs,
		float64(inflated.Load())/1e6/secs, raw.Load()>>20, inflated.Load()>>20)
}
