package iamstate

import (
	"bytes"
	"os"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// BenchmarkReadBuild reads and builds cloudsplaining's full GAAD (824 KB:
// 44 users, 5 groups, 78 roles, 84 policies, 163 documents).
func BenchmarkReadBuild(b *testing.B) {
	path := ingesttest.SharedData(b) + "/aws-outputs/gaad/cloudsplaining-examples-files-example.json"
	raw, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		d, err := ReadGAAD(bytes.NewReader(raw))
		if err != nil {
			b.Fatal(err)
		}
		if a := Build(&Input{Outputs: Outputs{AuthorizationDetails: d}}); len(a.Roles) != 78 {
			b.Fatal(len(a.Roles))
		}
	}
}
