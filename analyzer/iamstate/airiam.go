package iamstate

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
)

// CredentialReportColumns is the credential report's header, in order.
var CredentialReportColumns = []string{"user", "arn", "user_creation_time", "password_enabled", "password_last_used", "password_last_changed",
	"password_next_rotation", "mfa_active", "access_key_1_active", "access_key_1_last_rotated", "access_key_1_last_used_date",
	"access_key_1_last_used_region", "access_key_1_last_used_service", "access_key_2_active", "access_key_2_last_rotated",
	"access_key_2_last_used_date", "access_key_2_last_used_region", "access_key_2_last_used_service", "cert_1_active",
	"cert_1_last_rotated", "cert_2_active", "cert_2_last_rotated"}

// airIAM is AirIAM's iam_data.json: the GAAD lists under other names, and
// the credential report parsed into one object per row.
type airIAM struct {
	AccountUsers     []UserDetail          `json:"AccountUsers"`
	AccountGroups    []GroupDetail         `json:"AccountGroups"`
	AccountRoles     []RoleDetail          `json:"AccountRoles"`
	AccountPolicies  []ManagedPolicyDetail `json:"AccountPolicies"`
	CredentialReport []map[string]string   `json:"CredentialReport"`
}

// ReadAirIAM reads AirIAM's iam_data.json (github.com/bridgecrewio/AirIAM):
// AccountUsers, AccountGroups, AccountRoles and AccountPolicies hold the
// get-account-authorization-details lists; CredentialReport holds the
// report's rows as objects, in which AirIAM leaves out N/A cells (they read
// back as N/A). The file does not say when it was read.
func ReadAirIAM(r io.Reader) (*Input, error) {
	var a airIAM
	if err := json.NewDecoder(r).Decode(&a); err != nil {
		return nil, fmt.Errorf("decode AirIAM data: %w", err)
	}
	if a.AccountUsers == nil && a.AccountRoles == nil && a.AccountGroups == nil && a.AccountPolicies == nil && a.CredentialReport == nil {
		return nil, fmt.Errorf("AirIAM data: no AccountUsers, AccountGroups, AccountRoles, AccountPolicies or CredentialReport")
	}
	in := &Input{}
	if a.AccountUsers != nil || a.AccountRoles != nil || a.AccountGroups != nil || a.AccountPolicies != nil {
		in.AuthorizationDetails = &AuthorizationDetails{UserDetailList: a.AccountUsers, GroupDetailList: a.AccountGroups,
			RoleDetailList: a.AccountRoles, Policies: a.AccountPolicies}
	}
	if a.CredentialReport != nil {
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write(CredentialReportColumns)
		for _, row := range a.CredentialReport {
			rec := make([]string, len(CredentialReportColumns))
			for i, col := range CredentialReportColumns {
				v, ok := row[col]
				if !ok {
					v = NA
				}
				rec[i] = v
			}
			_ = w.Write(rec)
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return nil, fmt.Errorf("AirIAM credential report: %w", err)
		}
		in.CredentialReport = &CredentialReportOutput{CSV: buf.String(), ReportFormat: "text/csv"}
	}
	return in, nil
}
