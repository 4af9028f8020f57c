package store

import (
	"context"
	"os"
	"slices"
	"testing"
)

// TestIndexedPrincipals: the principals of every file in the window, read
// from the indexes alone, are the ones the principal_arn column holds
// (quoted names included); a file whose index is gone is read from its
// column; a bad index is an error, not a silent loss.
func TestIndexedPrincipals(t *testing.T) {
	st, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	day1 := Partition{Account: "111122223333", Date: "2026-01-02"}
	day2 := Partition{Account: "111122223333", Date: "2026-01-03"}
	a, err := st.WriteTemp(context.Background(), day1, "b1", 0, rowsOf([]int{3, 9, 1}), WriteOptions{RowGroupRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	b, err := st.WriteTemp(context.Background(), day2, "b1", 1, rowsOf([]int{2, 0, 0, 4}), WriteOptions{RowGroupRows: 4})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Publish([]PendingFile{a, b}); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(Batch{ID: "b1", Files: []string{a.Final, b.Final}}); err != nil {
		t.Fatal(err)
	}
	want, err := PrincipalARNs(context.Background(), st, Query{})
	if err != nil {
		t.Fatal(err)
	}
	got, files, err := IndexedPrincipals(context.Background(), st, Query{})
	if err != nil || files != 2 || !slices.Equal(got, want) || len(got) != 4 {
		t.Fatalf("IndexedPrincipals = %q (%d files, %v), want %q", got, files, err, want)
	}
	// without its index, a file is read from its column
	if err := os.Remove(indexPath(b.Final)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := IndexedPrincipals(context.Background(), st, Query{}); err != nil || !slices.Equal(got, want) {
		t.Errorf("without an index: %q %v", got, err)
	}
	if err := os.WriteFile(indexPath(a.Final), []byte(indexHeader+"not quoted\t0\t0\t1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := IndexedPrincipals(context.Background(), st, Query{}); err == nil {
		t.Error("a bad index gave no error")
	}
}
