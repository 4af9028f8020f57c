// Command profile runs one ingest of a folder under the CPU profiler, for
// finding where ingest spends its time:
//
//	go run ./bench/profile -src bench/out/corpus -cpu /tmp/cpu.prof && go tool pprof -top /tmp/cpu.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"runtime/trace"

	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

func main() {
	src := flag.String("src", "", "folder of logs")
	cpu := flag.String("cpu", "cpu.prof", "CPU profile output")
	codec := flag.String("compression", "snappy", "Parquet compression")
	traceOut := flag.String("trace", "", "execution trace output (optional)")
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
	stats, err := ingest.Run(context.Background(), dir, st, ingest.Options{Write: store.WriteOptions{Compression: *codec}})
	pprof.StopCPUProfile()
	if *traceOut != "" {
		trace.Stop()
	}
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d records in %.2f s\n", stats.Records, stats.Seconds)
}
