package cloudtrail

import "strings"

// How a call ended, from its errorCode. The words are those of the usage
// rollup's outcome column and of the analyzer's reports.
const (
	// OutcomeAllowed: the call succeeded (no error code).
	OutcomeAllowed = "allowed"
	// OutcomeDenied: authorisation refused the call (AccessDenied and its
	// kin).
	OutcomeDenied = "denied"
	// OutcomeFailed: the call failed for another reason (NoSuchKey,
	// throttling, validation).
	OutcomeFailed = "failed"
)

// OutcomeOf classifies an errorCode: OutcomeAllowed, OutcomeDenied or
// OutcomeFailed.
func OutcomeOf(errorCode string) string {
	switch {
	case errorCode == "":
		return OutcomeAllowed
	case IsDenied(errorCode):
		return OutcomeDenied
	}
	return OutcomeFailed
}

// IsDenied reports whether errorCode is an authorisation failure
// (AccessDenied, AccessDeniedException, UnauthorizedOperation,
// Client.UnauthorizedOperation, AuthorizationError, Forbidden, ...), in any
// case.
func IsDenied(errorCode string) bool {
	if errorCode == "" {
		return false
	}
	c := strings.ToLower(errorCode)
	return strings.Contains(c, "accessdenied") || strings.Contains(c, "unauthorized") ||
		strings.Contains(c, "notauthorized") || strings.Contains(c, "authorizationerror") ||
		c == "forbidden" || c == "forbiddenexception"
}
