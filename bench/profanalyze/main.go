// Command profanalyze runs analyze for one principal under the CPU
// profiler: go run ./bench/profanalyze -store STORE -principal ARN -cpu cpu.prof
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime/pprof"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/ingest/store"
)

func main() {
	dir := flag.String("store", "", "store")
	p := flag.String("principal", "", "principal ARN")
	cpu := flag.String("cpu", "cpu.prof", "profile output")
	n := flag.Int("n", 5, "runs")
	flag.Parse()
	cat, err := catalog.Load()
	if err != nil {
		log.Fatal(err)
	}
	m := actionmap.New(cat)
	f, _ := os.Create(*cpu)
	pprof.StartCPUProfile(f)
	for i := 0; i < *n; i++ {
		start := time.Now()
		st, err := store.Open(*dir)
		if err != nil {
			log.Fatal(err)
		}
		_, stats, err := analyzer.Analyze(context.Background(), st, analyzer.Query{Principals: []string{*p}}, m, analyzer.Options{})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%v %+v\n", time.Since(start), stats)
	}
	pprof.StopCPUProfile()
}
