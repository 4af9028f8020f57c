package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLayering enforces the import directions of the README's architecture
// on every non-test package: libraries never import the CLI; ingest knows
// nothing of analysis or policies; only the source and the CIS collector talk
// to AWS (cmd wires the SDK's configuration); only the store knows Parquet.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/iamlens/iamlens/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/iamlens/iamlens/"
	rules := []struct {
		from   string // package prefix the rule applies to ("" = all)
		banned string // import prefix it may not use
		except []string
	}{
		{"", mod + "cmd/", nil},
		{mod + "ingest", mod + "analyzer", nil},
		{mod + "ingest", mod + "policygen", nil},
		{"", "github.com/aws/aws-sdk-go-v2", []string{mod + "ingest/source", mod + "analyzer/cis/collect", mod + "cmd/iamlens"}},
		{"", "github.com/parquet-go/parquet-go", []string{mod + "ingest/store"}},
		{"", "github.com/apache/arrow/go/v15/parquet", []string{mod + "ingest/store"}},
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		if strings.HasPrefix(pkg, mod+"bench/") {
			continue // measurement tools compare libraries on purpose
		}
		checked++
		for _, r := range rules {
			if !strings.HasPrefix(pkg, r.from) || exempt(pkg, r.except) {
				continue
			}
			for _, imp := range imports {
				if strings.HasPrefix(imp, r.banned) && pkg != strings.TrimSuffix(r.banned, "/") {
					t.Errorf("%s imports %s", pkg, imp)
				}
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages listed", checked)
	}
}

func exempt(pkg string, except []string) bool {
	for _, e := range except {
		if pkg == e || strings.HasPrefix(pkg, e+"/") {
			return true
		}
	}
	return false
}
