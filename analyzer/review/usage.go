package review

import (
	"context"
	"time"

	"github.com/iamlens/iamlens/analyzer"
)

// Usage is what the review needs of the dataset: for each access key and
// principal, its activity over the whole dataset. It is declared here, where
// it is consumed; RollupUsage implements it over the dataset's usage rollup.
type Usage interface {
	// Activity reads the dataset once and returns the activity of every
	// principal and long-term access key of q.Accounts (all when empty),
	// and, when q.Mapper is set, the actions each principal used between
	// q.From and q.To.
	Activity(ctx context.Context, q Query) (*Activity, error)
}

// Query says what Activity reads.
type Query struct {
	Accounts []string
	// Mapper, when set, maps the successful calls between From and To
	// (zero: open) to IAM actions: Activity.Used, for the unused
	// permissions (the same mapping `analyze` and `diff` use).
	Mapper   analyzer.Mapper
	From, To time.Time
}

// Activity is what the dataset says of every principal and long-term access
// key (AKIA…), over its whole span.
type Activity struct {
	// From and To are the first and last event of the dataset read (zero
	// when it holds none).
	From, To time.Time
	// Events counts the events read.
	Events int64
	// Principals are keyed by principal ARN (cloudtrail.Principal.ARN: a
	// user's ARN with its path, a role's ARN for its sessions).
	Principals map[string]*Subject
	// Keys are keyed by access key ID; only long-term keys (AKIA…) are
	// kept: session keys (ASIA…) are one per session.
	Keys map[string]*Subject
	// Creations are the successful CreateUser, CreateAccessKey and
	// CreateRole calls, oldest first.
	Creations []Creation
	// Touches holds, by target ("user/NAME", "role/NAME"), the last
	// human-looking caller of an IAM call naming the target.
	Touches map[string]Caller
	// Used holds, by principal ARN, the IAM actions of its successful
	// calls between UsedFrom and UsedTo (nil when not asked).
	Used             map[string][]string
	UsedFrom, UsedTo time.Time
}

// Subject is one principal's or key's activity.
type Subject struct {
	ID   string // the principal ARN or the access key ID
	Kind string // the principal kind (cloudtrail.Kind*)
	// Principal is, for a key, the principal that used it.
	Principal string
	// Calls counts every call; OK the successful ones (no error code),
	// Denied the ones refused by IAM, Failed the others. A key's "use", as
	// IAM's last-used date counts it, is any call: denied ones included.
	Calls, OK, Denied, Failed int64
	First, Last               time.Time // any call
	FirstOK, LastOK           time.Time // zero when no call succeeded
	// Days are the days with calls, oldest first.
	Days         []Day
	ErrorCodes   []Count // most frequent first
	SourceIPs    []Count // top N
	UserAgents   []Count // top N
	VPCEndpoints []Count // top N
	// MFA counts calls made with MFA; Console counts a principal's
	// successful console sign-ins (ConsoleLogin; 0 for a key).
	MFA, Console int64
	// LastConsole is the last console sign-in (zero when none).
	LastConsole time.Time
}

// Day is one UTC day of a subject's activity.
type Day struct {
	Date   time.Time // midnight UTC
	OK     int64
	Denied int64
	Failed int64
	// FirstOK, LastOK, FirstFail and LastFail bound the day's calls of
	// each outcome (zero when there is none).
	FirstOK, LastOK, FirstFail, LastFail time.Time
}

// Failures is the day's denied and failed calls.
func (d Day) Failures() int64 { return d.Denied + d.Failed }

// Count is a value and how often it was seen.
type Count = analyzer.Count

// Creation is one successful call that created a user, role or access key.
type Creation struct {
	// Target is "user/NAME", "role/NAME" or "access-key/NAME" (a key of
	// user NAME: CloudTrail's request names the user, and the key ID is
	// matched by creation time).
	Target string
	At     time.Time
	By     Caller
}

// Caller is who made a call.
type Caller struct {
	Principal string    `json:"principal"`
	Kind      string    `json:"kind,omitempty"`
	At        time.Time `json:"at"`
	Event     string    `json:"event,omitempty"` // "iam:CreateAccessKey"
	SourceIP  string    `json:"source_ip,omitempty"`
	UserAgent string    `json:"user_agent,omitempty"`
	// Human says the call looks made by a person (console, MFA, an
	// Identity Center session, the root user).
	Human bool `json:"human"`
}
