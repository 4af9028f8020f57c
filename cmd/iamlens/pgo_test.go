package main

import (
	"bytes"
	"compress/gzip"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDefaultPGO holds default.pgo, the CPU profile `go build` optimises
// the binary with, to a profile of today's hot code: a gzipped pprof
// profile that names the functions where ingest and analyze spend their
// time, each of which the code still declares. Go matches a profile's
// samples to functions by name, so a renamed hot function silently loses
// its optimisation; this test notices, and bench/pgo.sh makes a fresh
// profile.
func TestDefaultPGO(t *testing.T) {
	f, err := os.Open("default.pgo")
	if err != nil {
		t.Fatalf("the binary's PGO profile: %v (bash bench/pgo.sh makes it)", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("default.pgo is not a gzipped pprof profile: %v", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("default.pgo: %v", err)
	}
	for _, fn := range []string{
		"github.com/iamlens/iamlens/ingest/gunzip.(*Decoder).block",
		"github.com/iamlens/iamlens/ingest/cloudtrail.(*Splitter).members",
		"github.com/iamlens/iamlens/ingest/cloudtrail.(*Splitter).str",
		"github.com/iamlens/iamlens/ingest/columns.(*Builder).appendFields",
		"github.com/iamlens/iamlens/ingest/columns.(*Builder).identity",
		"github.com/iamlens/iamlens/ingest/store.(*encoder).stringValues",
		"github.com/iamlens/iamlens/ingest/store.scanFile",
		"github.com/iamlens/iamlens/analyzer.scanDays",
	} {
		if !declared(t, fn) {
			t.Errorf("%s: the code declares no such function (renamed? rerun bash bench/pgo.sh and update this list)", fn)
		}
		if !bytes.Contains(raw, []byte(fn)) {
			t.Errorf("default.pgo has no samples in %s: rerun bash bench/pgo.sh", fn)
		}
	}
}

// declared reports whether the package of a profile's function name
// ("module/pkg.(*T).m" or "module/pkg.f") declares that function.
func declared(t *testing.T, fn string) bool {
	t.Helper()
	const mod = "github.com/iamlens/iamlens/"
	slash := strings.LastIndex(fn, "/")
	dot := slash + 1 + strings.Index(fn[slash+1:], ".") // the package path ends at the first dot after the last slash
	dir := filepath.Join("..", "..", strings.TrimPrefix(fn[:dot], mod))
	want := fn[dot+1:]
	pkgs, err := parser.ParseDir(token.NewFileSet(), dir, func(fi os.FileInfo) bool {
		return !strings.HasSuffix(fi.Name(), "_test.go")
	}, 0)
	if err != nil {
		t.Fatalf("parse %s: %v", dir, err)
	}
	for _, p := range pkgs {
		for _, f := range p.Files {
			for _, d := range f.Decls {
				fd, ok := d.(*ast.FuncDecl)
				if !ok {
					continue
				}
				name := fd.Name.Name
				if fd.Recv != nil && len(fd.Recv.List) == 1 {
					recv := fd.Recv.List[0].Type
					if ix, ok := recv.(*ast.IndexExpr); ok { // a generic type's method
						recv = ix.X
					}
					switch r := recv.(type) {
					case *ast.StarExpr:
						if id, ok := r.X.(*ast.Ident); ok {
							name = "(*" + id.Name + ")." + name
						}
					case *ast.Ident:
						name = r.Name + "." + name
					}
				}
				if name == want {
					return true
				}
			}
		}
	}
	return false
}
