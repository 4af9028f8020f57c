package apply

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
)

// OpenAudit opens the audit log for appending, creating it readable and
// writable by its owner only (0600). An existing log that others may read
// or write is refused: it records who changed which key.
func OpenAudit(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		f.Close()
		return nil, fmt.Errorf("audit log %s is %s: make it private first (chmod 600 %s)", path, st.Mode().Perm(), path)
	}
	return f, nil
}

// ReadAudit reads an audit log's lines.
func ReadAudit(r io.Reader) ([]AuditEntry, error) {
	var out []AuditEntry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for n := 1; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var e AuditEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return out, fmt.Errorf("audit log line %d: %w", n, err)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}
