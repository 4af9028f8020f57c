package store

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
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
	// The table-driven parse gives the key that hexIDKey (encoding/hex)
	// gives, for UUIDs and for near-UUIDs: a byte of a UUID replaced by every
	// byte value in turn.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		var b [16]byte
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		h := hex.EncodeToString(b[:])
		id := h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
		if rng.IntN(2) == 0 {
			id = strings.ToUpper(id)
		}
		if got := IDKey(id); got != b || got != hexIDKey(id) {
			t.Fatalf("IDKey(%q) = %x, want %x", id, got, b)
		}
		pos := rng.IntN(36)
		for c := range 256 {
			bad := []byte(id)
			bad[pos] = byte(c)
			if got, want := IDKey(string(bad)), hexIDKey(string(bad)); got != want {
				t.Fatalf("IDKey(%q) = %x, want %x", bad, got, want)
			}
		}
	}
}

// hexIDKey is IDKey as it was written first, with encoding/hex.
func hexIDKey(id string) [16]byte {
	var k [16]byte
	if len(id) == 36 && id[8] == '-' && id[13] == '-' && id[18] == '-' && id[23] == '-' {
		var hexs [32]byte
		n := 0
		for i := 0; i < 36; i++ {
			if id[i] == '-' {
				continue
			}
			hexs[n] = id[i]
			n++
		}
		if _, err := hex.Decode(k[:], hexs[:]); err == nil {
			return k
		}
	}
	return sum16(id)
}

// BenchmarkIDKey: the key of one CloudTrail eventID, as ingest makes it for
// every row (table), and as hexIDKey made it.
func BenchmarkIDKey(b *testing.B) {
	ids := make([]string, 1024)
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range ids {
		var u [16]byte
		for j := range u {
			u[j] = byte(rng.Uint32())
		}
		h := hex.EncodeToString(u[:])
		ids[i] = h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	}
	for _, c := range []struct {
		name string
		key  func(string) [16]byte
	}{{"table", IDKey}, {"hex.Decode", hexIDKey}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(36)
			b.ReportAllocs()
			var sink byte
			for i := 0; b.Loop(); i++ {
				k := c.key(ids[i%len(ids)])
				sink ^= k[0]
			}
			if sink == 42 {
				b.Log(sink)
			}
		})
	}
}

// Manifest lines longer than the read buffer: a committed batch of 3,000
// objects, a line whose batch field does not come first (parsed whole), and
// a torn tail longer than the buffer; Open keeps the first two, cuts the
// third, and every committed object is known by key and ETag, not by key.
func TestManifestLongLines(t *testing.T) {
	root := t.TempDir()
	st, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	var objs []ObjectRecord
	for i := 0; i < 3000; i++ {
		objs = append(objs, ObjectRecord{Key: fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2026/10/01/object-%05d.json.gz", i), ETag: fmt.Sprint(i)})
	}
	if err := st.Commit(Batch{ID: "big", Objects: objs}); err != nil {
		t.Fatal(err)
	}
	late := Batch{ID: "late", Objects: objs[:1500]}
	late.Objects = append([]ObjectRecord{{Key: "late-key", ETag: "x"}}, late.Objects...)
	line, _ := json.Marshal(struct {
		Objects []ObjectRecord `json:"objects"`
		ID      string         `json:"batch"`
	}{late.Objects, late.ID})
	torn, _ := json.Marshal(Batch{ID: "torn", Objects: objs})
	f, _ := os.OpenFile(filepath.Join(root, "_state", "manifest.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write(append(line, '\n'))
	f.Write(torn[:len(torn)-10])
	f.Close()
	if len(line) < 100<<10 || len(torn) < 100<<10 {
		t.Fatalf("lines of %d and %d bytes do not exceed the 64 KiB buffer", len(line), len(torn))
	}

	st, err = Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if !st.isCommitted("big") || !st.isCommitted("late") || st.isCommitted("torn") {
		t.Fatalf("committed: big %v, late %v, torn %v", st.isCommitted("big"), st.isCommitted("late"), st.isCommitted("torn"))
	}
	if !st.Done(objs[2999].Key, "2999") || !st.Done("late-key", "x") || st.Done(objs[0].Key, "1") {
		t.Fatal("objects not known by key and ETag")
	}
	if n := st.ObjectCount(); n != 3001 {
		t.Fatalf("%d objects, want 3001", n)
	}
	data, _ := os.ReadFile(filepath.Join(root, "_state", "manifest.jsonl"))
	if strings.Count(string(data), "\n") != 2 || !strings.HasSuffix(string(data), "\n") {
		t.Fatalf("manifest not cut after its last whole line (%d bytes)", len(data))
	}
}

// TestOpenExisting: reading creates nothing; a missing folder is ErrEmpty,
// a file is refused by both Open and OpenExisting.
func TestOpenExisting(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenExisting(filepath.Join(dir, "missing")); !errors.Is(err, ErrEmpty) {
		t.Errorf("missing: %v", err)
	}
	plain := filepath.Join(dir, "not-a-store")
	if err := os.Mkdir(plain, 0o755); err != nil {
		t.Fatal(err)
	}
	st, err := OpenExisting(plain)
	if err != nil {
		t.Fatal(err)
	}
	if files, err := st.Files(nil, time.Time{}, time.Time{}); err != nil || len(files) != 0 {
		t.Errorf("files %v, %v", files, err)
	}
	if ents, _ := os.ReadDir(plain); len(ents) != 0 {
		t.Errorf("reading created %v", ents)
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	for name, open := range map[string]func(string) (*Store, error){"Open": Open, "OpenExisting": OpenExisting} {
		if _, err := open(file); err == nil || !strings.Contains(err.Error(), "is a file: --store takes a folder") {
			t.Errorf("%s of a file: %v", name, err)
		}
	}
}
