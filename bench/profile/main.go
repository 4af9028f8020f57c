// Command profile runs one ingest of a folder under the CPU profiler, for
// finding where ingest spends its time:
//
//	go run ./bench/profile -src bench/out/corpus -cpu /tmp/cpu.prof && go tool pprof -top /tmp/cpu.prof
//	go run ./bench/profile -src bench/out/corpus -heap /tmp/heap.prof && go tool pprof -sample_index=inuse_space -top /tmp/heap.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"runtime/trace"
	"time"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

func main() {
	src := flag.String("src", "", "folder of logs")
	cpu := flag.String("cpu", "cpu.prof", "CPU profile output")
	codec := flag.String("compression", "snappy", "Parquet compression")
	batchMB := flag.Int64("batch-mb", 0, "MiB of JSON a worker gathers before it writes (0: ingest's default)")
	traceOut := flag.String("trace", "", "execution trace output (optional)")
	heapOut := flag.String("heap", "", "heap profile output (optional), taken -heap-after into the run: what the last GC before it found live")
	heapAfter := flag.Duration("heap-after", 3*time.Second, "when to take the heap profile")
	noRollup := flag.Bool("no-rollup", false, "write the events without their usage rollup (the rollup's cost is the difference)")
	flag.Parse()
	dir, err := source.NewDir(*src)
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "iamlens-profile-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	st, err := store.Open(tmp)
	if err != nil {
		log.Fatal(err)
	}
	f, err := os.Create(*cpu)
	if err != nil {
		log.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}
	if *traceOut != "" {
		tf, err := os.Create(*traceOut)
		if err != nil {
			log.Fatal(err)
		}
		if err := trace.Start(tf); err != nil {
			log.Fatal(err)
		}
		defer tf.Close()
	}
	if *heapOut != "" {
		time.AfterFunc(*heapAfter, func() {
			hf, err := os.Create(*heapOut)
			if err != nil {
				log.Fatal(err)
			}
			defer hf.Close()
			if err := pprof.Lookup("heap").WriteTo(hf, 0); err != nil {
				log.Fatal(err)
			}
		})
	}
	stats, err := ingest.Run(context.Background(), dir, st, ingest.Options{Write: store.WriteOptions{Compression: *codec, NoRollup: *noRollup}, BatchBytes: *batchMB << 20})
	pprof.StopCPUProfile()
	if *traceOut != "" {
		trace.Stop()
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d records in %.2f s\n", stats.Records, stats.Seconds)
}
