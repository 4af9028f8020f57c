package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// binaryBudget is the most the default build of iamlens (`go build`, no
// -ldflags, no PGO) may weigh. It guards against the linker's dead-method
// elimination being switched off again: one reflect.Method call on a
// non-constant name anywhere in the binary (google.golang.org/protobuf
// before v1.36 made one, pulled in through the Parquet libraries) keeps
// every exported method of every reachable type, and the AWS SDK's
// clients then link all their operations (about 800 for EC2 alone, of
// which iamlens calls 5), which more than doubles the binary. Executing a
// text/template or html/template does it too (analyzer/review writes its
// HTML without one for that reason). Measured figures are in the commits
// that set this budget and in docs/install.md: 44.8 MiB on linux/amd64
// when it was set, 113 MiB with the elimination off; the budget leaves
// room for the code to grow.
const binaryBudget = 60 << 20

// TestBinarySize builds the CLI as `go build` does (without the PGO
// profile, which changes code layout, not what is linked) and fails if it
// weighs more than binaryBudget.
func TestBinarySize(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds the whole binary")
	}
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("no go command to build the binary with")
		}
	}
	out := filepath.Join(t.TempDir(), "iamlens")
	cmd := exec.Command(gobin, "build", "-pgo=off", "-o", out, ".")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	fi, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("iamlens %s/%s: %.1f MiB (budget %.0f MiB)", runtime.GOOS, runtime.GOARCH, mib(fi.Size()), mib(binaryBudget))
	if fi.Size() > binaryBudget {
		t.Errorf("the iamlens binary weighs %.1f MiB, over its %.0f MiB budget: "+
			"did a dependency switch off dead-method elimination? "+
			"(go build -ldflags=-dumpdep -o /dev/null ./cmd/iamlens 2>&1 | grep ReflectMethod names the function that keeps them alive)",
			mib(fi.Size()), mib(binaryBudget))
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }
