package iamstate

import (
	"bytes"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// CredentialReportOutput is the output of `aws iam get-credential-report`:
// {"Content": base64 CSV, "ReportFormat": "text/csv", "GeneratedTime": …}.
// A "CSV" member holding the plain text is accepted too (hand-assembled
// snapshots).
type CredentialReportOutput struct {
	Content       []byte `json:"Content,omitempty"` // base64 in JSON, as the CLI prints it
	CSV           string `json:"CSV,omitempty"`
	ReportFormat  string `json:"ReportFormat,omitempty"`
	GeneratedTime Time   `json:"GeneratedTime,omitzero"`
}

// The markers the credential report writes instead of a value.
const (
	// NA ("not applicable"): the credential does not exist (no password,
	// no key, no certificate), or, in access_key_N_last_used_*, the key
	// was never used (or not since IAM began tracking it, 2015-04-22).
	NA = "N/A"
	// NoInformation: in password_last_used, the password was never used
	// to sign in (or not since IAM began tracking it, 2014-10-20).
	NoInformation = "no_information"
	// NotSupported: the column does not apply to the root user
	// (password_enabled, password_last_changed, password_next_rotation).
	NotSupported = "not_supported"
)

// RootUser is the user column of the root user's row.
const RootUser = "<root_account>"

// CredentialReport is the parsed credential report.
type CredentialReport struct {
	// GeneratedTime is when IAM built the report (zero when the input did
	// not say, e.g. a bare CSV file).
	GeneratedTime time.Time
	// Columns is the header line.
	Columns []string
	Rows    []CredentialReportRow
	// Problems lists cells that are neither a value of their column's
	// type nor one of the markers; such a cell reads as unknown.
	Problems []Problem
}

// CredentialReportRow is one line of the credential report. Typed fields
// hold the standard columns; Cells holds every column as written, by
// header name, so nothing the report says is lost.
type CredentialReportRow struct {
	// Line is the row's line number in the CSV (the header is line 1).
	Line                 int
	User                 string // RootUser for the root user
	ARN                  string
	UserCreationTime     Stamp
	PasswordEnabled      Flag  // not_supported for root
	PasswordLastUsed     Stamp // N/A: no password; no_information: never used
	PasswordLastChanged  Stamp // N/A: no password; not_supported for root
	PasswordNextRotation Stamp // N/A: no password or no expiry; not_supported for root
	MFAActive            Flag
	// AccessKeys are the access_key_1_* and access_key_2_* columns.
	AccessKeys [2]KeyColumns
	// Certs are the cert_1_* and cert_2_* columns (X.509 signing
	// certificates).
	Certs [2]CertColumns
	Cells map[string]string
}

// KeyColumns are one access key's columns of a row.
type KeyColumns struct {
	Active      Flag
	LastRotated Stamp // when the key was created (a key cannot be rotated in place); N/A: no key
	// LastUsedDate is N/A when the key was never used (or there is no key).
	LastUsedDate Stamp
	// LastUsedRegion and LastUsedService are "" when the report says N/A.
	LastUsedRegion  string
	LastUsedService string
}

// Exists reports whether the row has this key (active or not).
func (k KeyColumns) Exists() bool { return k.Active.On() || k.LastRotated.Known() }

// CertColumns are one signing certificate's columns of a row.
type CertColumns struct {
	Active      Flag
	LastRotated Stamp
}

// IsRoot reports whether the row is the root user's.
func (r *CredentialReportRow) IsRoot() bool { return r.User == RootUser }

// Cell returns a column as written ("" when the row has no such column).
func (r *CredentialReportRow) Cell(col string) string { return r.Cells[col] }

// Flag is a true/false column as written: "true", "false", or
// not_supported.
type Flag string

// On reports whether the flag is "true".
func (f Flag) On() bool { return f == "true" }

// Stamp is a date column: Time is set when the cell holds a date; Raw is
// the cell as written (a date, N/A, no_information, not_supported, or "").
type Stamp struct {
	Time time.Time
	Raw  string
}

// Known reports whether the cell holds a date.
func (s Stamp) Known() bool { return !s.Time.IsZero() }

// Is reports whether the cell is the marker m (NA, NoInformation,
// NotSupported).
func (s Stamp) Is(m string) bool { return s.Raw == m }

// String is the cell as written.
func (s Stamp) String() string { return s.Raw }

// Text returns the report's CSV text, from Content (base64 in JSON, decoded
// by encoding/json; a hand-assembled snapshot may hold it encoded twice) or
// CSV.
func (c *CredentialReportOutput) Text() (string, error) {
	text := c.CSV
	if text == "" {
		text = string(c.Content)
		if !strings.HasPrefix(text, "user,") {
			if dec, err := base64.StdEncoding.DecodeString(text); err == nil {
				text = string(dec)
			}
		}
	}
	if text == "" {
		return "", fmt.Errorf("credential report: empty")
	}
	return text, nil
}

// Parse decodes the report's CSV. It fails only when there is no CSV, the
// CSV does not parse, or it has no header line; cells that do not fit
// their column are listed in Problems.
func (c *CredentialReportOutput) Parse() (*CredentialReport, error) {
	text, err := c.Text()
	if err != nil {
		return nil, err
	}
	rep, err := ParseCredentialReportCSV(strings.NewReader(text))
	if err != nil {
		return nil, err
	}
	rep.GeneratedTime = c.GeneratedTime.Time
	return rep, nil
}

// ParseCredentialReportCSV reads the credential report's CSV (a leading
// byte-order mark is skipped). Rows may be shorter or longer than the
// header: missing cells are absent from Cells, extra ones are dropped.
func ParseCredentialReportCSV(r io.Reader) (*CredentialReport, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("credential report: %w", err)
	}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("credential report: %w", err)
	}
	if len(recs) == 0 || len(recs[0]) == 0 || recs[0][0] != "user" {
		return nil, fmt.Errorf("credential report: no header line (want one starting with \"user,\")")
	}
	rep := &CredentialReport{Columns: recs[0], Rows: make([]CredentialReportRow, 0, len(recs)-1)}
	for i, rec := range recs[1:] {
		cells := make(map[string]string, len(rec))
		for j, v := range rec {
			if j < len(rep.Columns) {
				cells[rep.Columns[j]] = v
			}
		}
		row, probs := rowFromCells(cells, i+2)
		rep.Rows = append(rep.Rows, row)
		rep.Problems = append(rep.Problems, probs...)
	}
	return rep, nil
}

// rowFromCells types one row's cells.
func rowFromCells(cells map[string]string, line int) (CredentialReportRow, []Problem) {
	r := CredentialReportRow{Line: line, User: cells["user"], ARN: cells["arn"], Cells: cells}
	var probs []Problem
	subject := fmt.Sprintf("credential report line %d (%s)", line, r.User)
	stamp := func(col string) Stamp {
		v := cells[col]
		s := Stamp{Raw: v}
		switch v {
		case "", NA, NoInformation, NotSupported:
			return s
		}
		t, err := ParseTime(v)
		if err != nil {
			probs = append(probs, Problem{Source: SourceCredentialReport, Subject: subject, Message: fmt.Sprintf("%s %q is neither a date nor N/A, no_information or not_supported; read as unknown", col, v)})
			return s
		}
		s.Time = t
		return s
	}
	flag := func(col string) Flag {
		v := cells[col]
		switch v {
		case "", "true", "false", NotSupported:
		default:
			probs = append(probs, Problem{Source: SourceCredentialReport, Subject: subject, Message: fmt.Sprintf("%s %q is not true, false or not_supported; read as false", col, v)})
		}
		return Flag(v)
	}
	text := func(col string) string {
		if v := cells[col]; v != NA {
			return v
		}
		return ""
	}
	r.UserCreationTime = stamp("user_creation_time")
	r.PasswordEnabled = flag("password_enabled")
	r.PasswordLastUsed = stamp("password_last_used")
	r.PasswordLastChanged = stamp("password_last_changed")
	r.PasswordNextRotation = stamp("password_next_rotation")
	r.MFAActive = flag("mfa_active")
	for i := range r.AccessKeys {
		p := fmt.Sprintf("access_key_%d_", i+1)
		r.AccessKeys[i] = KeyColumns{Active: flag(p + "active"), LastRotated: stamp(p + "last_rotated"), LastUsedDate: stamp(p + "last_used_date"),
			LastUsedRegion: text(p + "last_used_region"), LastUsedService: text(p + "last_used_service")}
	}
	for i := range r.Certs {
		p := fmt.Sprintf("cert_%d_", i+1)
		r.Certs[i] = CertColumns{Active: flag(p + "active"), LastRotated: stamp(p + "last_rotated")}
	}
	return r, probs
}

// ReadCredentialReport reads a credential report file: the CSV itself, or
// the JSON `aws iam get-credential-report` prints (base64 Content). The
// result's Parse gives the rows.
func ReadCredentialReport(r io.Reader) (*CredentialReportOutput, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read credential report: %w", err)
	}
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	switch {
	case bytes.HasPrefix(b, []byte("user,")):
		return &CredentialReportOutput{CSV: string(b) + "\n", ReportFormat: "text/csv"}, nil
	case bytes.HasPrefix(b, []byte("{")):
		var out CredentialReportOutput
		if err := json.Unmarshal(b, &out); err != nil {
			return nil, fmt.Errorf("credential report JSON: %w", err)
		}
		if len(out.Content) == 0 && out.CSV == "" && out.ReportFormat == "" && out.GeneratedTime.IsZero() {
			return nil, fmt.Errorf("credential report JSON: no Content, ReportFormat or GeneratedTime: not a get-credential-report output")
		}
		return &out, nil
	}
	return nil, fmt.Errorf("credential report: neither the CSV (a header starting with \"user,\") nor the JSON of get-credential-report")
}
