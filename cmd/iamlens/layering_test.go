package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// layer ranks the module's top-level folders: a package may import only
// packages of its own layer or of a lower one (cmd → policygen → analyzer →
// ingest). bench/ and scripts/ are outside the layers: measurement tools
// compare libraries on purpose, and the test scripts' helpers import none
// of iamlens.
func layer(pkg string) (rank int, ok bool) {
	const mod = "github.com/iamlens/iamlens/"
	if !strings.HasPrefix(pkg, mod) {
		return 0, false
	}
	top, _, _ := strings.Cut(strings.TrimPrefix(pkg, mod), "/")
	switch top {
	case "ingest":
		return 1, true
	case "analyzer":
		return 2, true
	case "policygen":
		return 3, true
	case "cmd":
		return 4, true
	}
	return 0, false
}

// TestLayering enforces the README's architecture on every non-test
// package: imports go down only (cmd → policygen → analyzer → ingest),
// nothing imports the CLI, only the packages that talk to AWS import the
// SDK, and only the store knows Parquet.
func TestLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "github.com/iamlens/iamlens/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const mod = "github.com/iamlens/iamlens/"
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		if strings.HasPrefix(pkg, mod+"bench/") || strings.HasPrefix(pkg, mod+"scripts/") {
			continue
		}
		from, ok := layer(pkg)
		if !ok {
			t.Errorf("%s is outside the layers (cmd, policygen, analyzer, ingest)", pkg)
			continue
		}
		checked++
		for _, imp := range imports {
			if to, ok := layer(imp); ok && to > from {
				t.Errorf("%s imports %s: imports go down only (cmd → policygen → analyzer → ingest)", pkg, imp)
			}
			if strings.HasPrefix(imp, mod+"cmd/") {
				t.Errorf("%s imports the CLI (%s)", pkg, imp)
			}
			if bannedImport(pkg, imp) {
				t.Errorf("%s imports %s", pkg, imp)
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages listed", checked)
	}
}

// TestLayerRanks keeps the rule able to fail: an upward import is caught.
func TestLayerRanks(t *testing.T) {
	const mod = "github.com/iamlens/iamlens/"
	up := [][2]string{
		{mod + "ingest/store", mod + "analyzer"},
		{mod + "analyzer/actionmap", mod + "policygen"},
		{mod + "policygen", mod + "cmd/iamlens"},
	}
	for _, p := range up {
		from, _ := layer(p[0])
		to, _ := layer(p[1])
		if to <= from {
			t.Errorf("%s → %s is not seen as upward", p[0], p[1])
		}
	}
	if _, ok := layer(mod + "util"); ok {
		t.Error("a folder outside the four layers is accepted")
	}
}

// libraries are imports only some packages may make: the AWS SDK (only
// the packages that talk to AWS) and the Parquet libraries (only the store).
var libraries = []struct {
	banned string   // import prefix
	except []string // packages (and their subpackages) that may import it
}{
	{"github.com/aws/aws-sdk-go-v2", awsPackages},
	{"github.com/parquet-go/parquet-go", []string{"github.com/iamlens/iamlens/ingest/store"}},
	{"github.com/apache/arrow/go/v15/parquet", []string{"github.com/iamlens/iamlens/ingest/store"}},
}

// bannedImport reports whether pkg may not import imp under libraries
// (everywhere lists the exceptions).
func bannedImport(pkg, imp string) bool {
	if slices.Contains(everywhere, imp) {
		return false
	}
	for _, r := range libraries {
		if strings.HasPrefix(imp, r.banned) && !exempt(pkg, r.except) {
			return true
		}
	}
	return false
}

// TestLibraryRule keeps the library rule able to fail and its one
// exception narrow: the ARN parser is allowed everywhere, the rest of the
// SDK and Parquet only where the rule says.
func TestLibraryRule(t *testing.T) {
	const mod = "github.com/iamlens/iamlens/"
	for _, c := range []struct {
		pkg, imp string
		banned   bool
	}{
		{mod + "ingest/cloudtrail", "github.com/aws/aws-sdk-go-v2/aws/arn", false},
		{mod + "analyzer/actionmap", "github.com/aws/aws-sdk-go-v2/aws/arn", false},
		{mod + "policygen", "github.com/aws/aws-sdk-go-v2/aws/arn", false},
		{mod + "analyzer", "github.com/aws/aws-sdk-go-v2/aws", true},
		{mod + "analyzer", "github.com/aws/aws-sdk-go-v2/aws/arn/internal", true},
		{mod + "analyzer", "github.com/aws/aws-sdk-go-v2/service/iam", true},
		{mod + "policygen", "github.com/aws/aws-sdk-go-v2/aws/retry", true},
		{mod + "ingest/source", "github.com/aws/aws-sdk-go-v2/service/s3", false},
		{mod + "analyzer/cis/collect", "github.com/aws/aws-sdk-go-v2/service/iam", false},
		{mod + "analyzer/cis/collectx", "github.com/aws/aws-sdk-go-v2/service/iam", true},
		{mod + "ingest/columns", "github.com/parquet-go/parquet-go", true},
		{mod + "ingest/store", "github.com/parquet-go/parquet-go", false},
		{mod + "ingest/store", "github.com/aws/aws-sdk-go-v2/service/s3", true},
		{mod + "ingest/store/s3store", "github.com/aws/aws-sdk-go-v2/service/s3", false},
		{mod + "analyzer", "github.com/aws/aws-sdk-go-v2/service/athena", true},
		{mod + "analyzer/athena", "github.com/aws/aws-sdk-go-v2/service/athena", false},
	} {
		if got := bannedImport(c.pkg, c.imp); got != c.banned {
			t.Errorf("bannedImport(%s, %s) = %v, want %v", c.pkg, c.imp, got, c.banned)
		}
	}
}

// awsPackages may import aws-sdk-go-v2: the S3 source, the store's S3
// backend (the rest of the store reaches it through store.Backend), the
// readers of live AWS state, the Athena engine, the executor of `keys
// apply` (the one writer), and the CLI (which wires the SDK's
// configuration).
var awsPackages = []string{
	"github.com/iamlens/iamlens/ingest/source",
	"github.com/iamlens/iamlens/ingest/store/s3store",
	"github.com/iamlens/iamlens/analyzer/athena",
	"github.com/iamlens/iamlens/analyzer/cis/collect",
	"github.com/iamlens/iamlens/analyzer/iamstate/live",
	"github.com/iamlens/iamlens/policygen/keyplan/apply",
	"github.com/iamlens/iamlens/cmd/iamlens",
}

// everywhere lists the packages of banned libraries any package may import:
// the SDK's ARN parser (standard library only) is the project's one ARN
// parser.
var everywhere = []string{"github.com/aws/aws-sdk-go-v2/aws/arn"}

func exempt(pkg string, except []string) bool {
	for _, e := range except {
		if pkg == e || strings.HasPrefix(pkg, e+"/") {
			return true
		}
	}
	return false
}
