// Command gen writes the compact copy of AWS managed policies that package
// managed embeds, from iann0036/iam-dataset's managed-policies.json (the
// shape of ../shared/data/reference/aws-managed-policies) plus a supplement
// of policies that copy lacks.
//
// The output is gzip-compressed JSON lines, one policy a line, sorted by
// name: {"name":…,"arn":…,"version":…,"document":{…}}. Only those four
// fields are kept; documents are compacted, keys as AWS wrote them.
package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"sort"
)

type policy struct {
	Name     string          `json:"name"`
	ARN      string          `json:"arn"`
	Version  string          `json:"version"`
	Document json.RawMessage `json:"document"`
}

func read(path string) []policy {
	b, err := os.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	var f struct {
		Policies []policy `json:"policies"`
	}
	if err := json.Unmarshal(b, &f); err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	return f.Policies
}

func main() {
	src := flag.String("src", "", "managed-policies.json of iann0036/iam-dataset")
	sup := flag.String("supplement", "internal/gen/supplement.json", "policies to add when the source lacks them")
	out := flag.String("out", "policies.jsonl.gz", "output file")
	flag.Parse()
	ps := read(*src)
	have := map[string]bool{}
	for _, p := range ps {
		have[p.ARN] = true
	}
	added := 0
	for _, p := range read(*sup) {
		if !have[p.ARN] {
			ps = append(ps, p)
			added++
		}
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	var raw bytes.Buffer
	for _, p := range ps {
		if p.Name == "" || p.ARN == "" || len(p.Document) == 0 {
			log.Fatalf("policy %q %q: missing name, ARN or document", p.Name, p.ARN)
		}
		var doc bytes.Buffer
		if err := json.Compact(&doc, p.Document); err != nil {
			log.Fatalf("%s: %v", p.Name, err)
		}
		p.Document = doc.Bytes()
		line, err := json.Marshal(p)
		if err != nil {
			log.Fatal(err)
		}
		raw.Write(line)
		raw.WriteByte('\n')
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	zw.Write(raw.Bytes())
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, gz.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%d policies (%d from the supplement), %d bytes -> %d gzip\n", len(ps), added, raw.Len(), gz.Len())
}
