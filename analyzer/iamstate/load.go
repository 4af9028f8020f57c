package iamstate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// Files names the files an account state is read from: a snapshot, or a
// get-account-authorization-details output and/or a credential report.
type Files struct {
	// Snapshot is an iamlens snapshot (`iamlens collect --out FILE`).
	Snapshot string
	// GAAD is `aws iam get-account-authorization-details` output (one
	// object or several pages), or AirIAM's iam_data.json, whose
	// credential report is used when CredentialReport is empty.
	GAAD string
	// CredentialReport is the report's CSV, or the JSON of `aws iam
	// get-credential-report`.
	CredentialReport string
}

// ErrNoFiles means Files names no file.
var ErrNoFiles = errors.New("no account state given: want a snapshot, or an authorization details output and/or a credential report")

// Load reads the files into an Input (Build makes the Account).
func (f Files) Load() (*Input, error) {
	switch {
	case f.Snapshot == "" && f.GAAD == "" && f.CredentialReport == "":
		return nil, ErrNoFiles
	case f.Snapshot != "" && (f.GAAD != "" || f.CredentialReport != ""):
		return nil, fmt.Errorf("a snapshot holds the authorization details and the credential report: give the snapshot alone, or the two outputs")
	case f.Snapshot != "":
		fh, err := os.Open(f.Snapshot)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		in, err := ReadSnapshot(fh)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Snapshot, err)
		}
		return in, nil
	}
	in := &Input{}
	if f.GAAD != "" {
		b, err := os.ReadFile(f.GAAD)
		if err != nil {
			return nil, err
		}
		if isAirIAM(b) {
			if in, err = ReadAirIAM(bytes.NewReader(b)); err != nil {
				return nil, fmt.Errorf("%s: %w", f.GAAD, err)
			}
		} else if in.AuthorizationDetails, err = ReadGAAD(bytes.NewReader(b)); err != nil {
			return nil, fmt.Errorf("%s: %w", f.GAAD, err)
		}
	}
	if f.CredentialReport != "" {
		fh, err := os.Open(f.CredentialReport)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		if in.CredentialReport, err = ReadCredentialReport(fh); err != nil {
			return nil, fmt.Errorf("%s: %w", f.CredentialReport, err)
		}
	}
	return in, nil
}

// isAirIAM reports whether the JSON object has AirIAM's top-level keys.
func isAirIAM(b []byte) bool {
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return false
	}
	var keys map[string]json.RawMessage
	if json.Unmarshal(b, &keys) != nil {
		return false
	}
	_, users := keys["AccountUsers"]
	_, roles := keys["AccountRoles"]
	return users || roles
}
