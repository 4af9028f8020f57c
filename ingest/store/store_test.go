package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestManifestTornTail: a crash mid-append leaves a line without its
// newline; Open cuts it (that batch was never committed) so the next commit
// starts on a line of its own, and objects of committed batches stay known.
func TestManifestTornTail(t *testing.T) {
	root := t.TempDir()
	st, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(Batch{ID: "b1", Objects: []ObjectRecord{{Key: "k1", ETag: "e1"}}}); err != nil {
		t.Fatal(err)
	}
	f, _ := os.OpenFile(filepath.Join(root, "_state", "manifest.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"batch":"b2","files":["x`)
	f.Close()

	st, err = Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if !st.isCommitted("b1") || st.isCommitted("b2") {
		t.Fatalf("committed: b1 %v, b2 %v", st.isCommitted("b1"), st.isCommitted("b2"))
	}
	if !st.Done("k1", "e1") || st.Done("k1", "other-etag") {
		t.Fatal("object k1 not remembered by key and ETag")
	}
	if err := st.Commit(Batch{ID: "b3", Objects: []ObjectRecord{{Key: "k3", ETag: "e3"}}}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(filepath.Join(root, "_state", "manifest.jsonl"))
	if lines := strings.Count(string(data), "\n"); lines != 2 || strings.Contains(string(data), `"b2"`) {
		t.Fatalf("manifest after repair:\n%s", data)
	}
	st, _ = Open(root)
	if !st.isCommitted("b3") || !st.Done("k3", "e3") || st.ObjectCount() != 2 {
		t.Fatalf("after reopen: b3 %v, objects %d", st.isCommitted("b3"), st.ObjectCount())
	}
}

func TestIDKey(t *testing.T) {
	a := IDKey("3c856bc0-1a07-4c18-89d9-4d9205856714")
	if a != IDKey("3C856BC0-1A07-4C18-89D9-4D9205856714") {
		t.Error("UUID case changes the key")
	}
	if a == IDKey("3c856bc0-1a07-4c18-89d9-4d9205856715") || IDKey("not-a-uuid") == IDKey("not-a-uuid2") {
		t.Error("different IDs share a key")
	}
}
