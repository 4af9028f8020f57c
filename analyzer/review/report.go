package review

import (
	"sort"
	"strings"
	"time"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// ReportFormat names the layout of the review's JSON.
const ReportFormat = "iamlens-review/1"

// Report is one review.
type Report struct {
	Format  string    `json:"format"`
	Account string    `json:"account,omitempty"`
	At      time.Time `json:"at"` // "now": the time the state is judged at
	Rules   RulesJSON `json:"rules"`
	Inputs  Inputs    `json:"inputs"`
	Summary Summary   `json:"summary"`
	// Findings are sorted by severity, kind, principal and key.
	Findings []Finding `json:"findings"`
	Notes    []string  `json:"notes,omitempty"`
	Problems []string  `json:"problems,omitempty"`
	// Timelines are the activity of every key and principal reviewed over
	// the whole dataset, sorted by label (the HTML report draws them).
	Timelines []Timeline `json:"timelines,omitempty"`
}

// RulesJSON are the rules in days, as reports show them.
type RulesJSON struct {
	WindowDays        int `json:"window_days"`
	NeverUsedAgeDays  int `json:"never_used_age_days"`
	StaleAgeDays      int `json:"stale_age_days"`
	FailingWindowDays int `json:"failing_window_days"`
	PeriodicMinDays   int `json:"periodic_min_days"`
	PeriodicMinGap    int `json:"periodic_min_gap_days"`
	PeriodicGraceDays int `json:"periodic_grace_days"`
}

func rulesJSON(r Rules) RulesJSON {
	return RulesJSON{WindowDays: int(r.Window / day), NeverUsedAgeDays: int(r.NeverUsedAge / day), StaleAgeDays: int(r.StaleAge / day),
		FailingWindowDays: int(r.FailingWindow / day), PeriodicMinDays: r.PeriodicMinDays, PeriodicMinGap: int(r.PeriodicMinGap / day),
		PeriodicGraceDays: int(r.PeriodicGrace / day)}
}

// Inputs say what the review read.
type Inputs struct {
	State   *StateInputs   `json:"state,omitempty"`
	Dataset *DatasetInputs `json:"dataset,omitempty"`
}

// StateInputs describe the account state read.
type StateInputs struct {
	CollectedAt          time.Time `json:"collected_at,omitzero"`
	AuthorizationDetails bool      `json:"authorization_details"`
	CredentialReport     bool      `json:"credential_report"`
	UserCredentials      bool      `json:"user_credentials"`
	Users                int       `json:"users"`
	Roles                int       `json:"roles"`
	AccessKeys           int       `json:"access_keys"`
	ActiveKeys           int       `json:"active_keys"`
}

func stateInputs(a *iamstate.Account) *StateInputs {
	s := &StateInputs{CollectedAt: a.CollectedAt, AuthorizationDetails: a.Read.AuthorizationDetails,
		CredentialReport: a.Read.CredentialReport, UserCredentials: a.Read.UserCredentials,
		Users: len(a.Users), Roles: len(a.Roles)}
	for _, u := range a.Users {
		for i := range u.AccessKeys {
			s.AccessKeys++
			if u.AccessKeys[i].Active() {
				s.ActiveKeys++
			}
		}
	}
	return s
}

// DatasetInputs describe the dataset read.
type DatasetInputs struct {
	From   time.Time `json:"from,omitzero"`
	To     time.Time `json:"to,omitzero"`
	Events int64     `json:"events"`
}

// Summary counts the findings.
type Summary struct {
	Findings int            `json:"findings"`
	ByKind   map[string]int `json:"by_kind"`
	// BySeverity counts findings per severity.
	BySeverity map[string]int `json:"by_severity"`
	// KeysReviewed and PrincipalsReviewed count what was looked at.
	KeysReviewed       int `json:"keys_reviewed"`
	PrincipalsReviewed int `json:"principals_reviewed"`
}

func summarize(rv *reviewer, fs []Finding) Summary {
	s := Summary{Findings: len(fs), ByKind: map[string]int{}, BySeverity: map[string]int{}}
	for _, f := range fs {
		s.ByKind[f.Kind]++
		s.BySeverity[f.Severity]++
	}
	for k := range rv.reviewed {
		if strings.HasPrefix(k, "key ") {
			s.KeysReviewed++
		} else {
			s.PrincipalsReviewed++
		}
	}
	return s
}

// AtOrAbove counts the findings of severity sev or higher.
func (r *Report) AtOrAbove(sev string) int {
	n := 0
	for _, f := range r.Findings {
		if SeverityRank(f.Severity) >= SeverityRank(sev) {
			n++
		}
	}
	return n
}

// Finding is one thing the review found, with its evidence and the clues
// to its owner.
type Finding struct {
	Kind     string `json:"kind"`
	Severity string `json:"severity"`
	Account  string `json:"account,omitempty"`
	// Principal is the user's or role's ARN.
	Principal     string `json:"principal"`
	PrincipalName string `json:"principal_name"`
	User          string `json:"user,omitempty"`
	AccessKeyID   string `json:"access_key_id,omitempty"`
	// KeySlot is the key's column in the credential report (1 or 2; 0
	// when the report does not describe it). Keys known from the report
	// alone have no ID.
	KeySlot int `json:"key_slot,omitempty"`
	// Labels mark roles AWS manages (service-linked, identity-center).
	Labels   []string `json:"labels,omitempty"`
	Summary  string   `json:"summary"`
	Action   string   `json:"action"`
	Evidence Evidence `json:"evidence"`
	Clues    Clues    `json:"clues"`
}

// Subject names what the finding is about for people: the key, else the
// principal.
func (f *Finding) Subject() string {
	switch {
	case f.AccessKeyID != "":
		return f.AccessKeyID + " (" + f.PrincipalName + ")"
	case f.KeySlot > 0:
		return f.PrincipalName + " access key " + string(rune('0'+f.KeySlot))
	}
	return f.PrincipalName
}

// Evidence are the dates and counts a finding rests on. Zero fields are
// left out of the JSON.
type Evidence struct {
	Status             string             `json:"status,omitempty"`
	Created            time.Time          `json:"created,omitzero"`
	AgeDays            int                `json:"age_days,omitempty"`
	NeverUsed          bool               `json:"never_used,omitempty"`
	LastUsed           time.Time          `json:"last_used,omitzero"`
	LastUsedSource     string             `json:"last_used_source,omitempty"`
	DaysSinceUse       int                `json:"days_since_use,omitempty"`
	IAMLastUsed        time.Time          `json:"iam_last_used,omitzero"`
	LastUsedService    string             `json:"last_used_service,omitempty"`
	LastUsedRegion     string             `json:"last_used_region,omitempty"`
	UserCreated        time.Time          `json:"user_created,omitzero"`
	PasswordEnabled    bool               `json:"password_enabled,omitempty"`
	PasswordLastUsed   time.Time          `json:"password_last_used,omitzero"`
	MFAActive          *bool              `json:"mfa_active,omitempty"`
	KeyLastUsed        time.Time          `json:"key_last_used,omitzero"`
	ActiveKeys         int                `json:"active_keys,omitempty"`
	Groups             []string           `json:"groups,omitempty"`
	RoleLastUsed       time.Time          `json:"role_last_used,omitzero"`
	RoleLastUsedRegion string             `json:"role_last_used_region,omitempty"`
	LogsFirstCall      time.Time          `json:"logs_first_call,omitzero"`
	LogsLastCall       time.Time          `json:"logs_last_call,omitzero"`
	LogsLastSuccess    time.Time          `json:"logs_last_success,omitzero"`
	LogsCalls          int64              `json:"logs_calls,omitempty"`
	LogsSuccessful     int64              `json:"logs_successful,omitempty"`
	Failing            *Failing           `json:"failing,omitempty"`
	Period             *Period            `json:"period,omitempty"`
	Unused             *UnusedPermissions `json:"unused_permissions,omitempty"`
	Notes              []string           `json:"notes,omitempty"`
}

// Timeline is one key's or principal's activity per day over the dataset.
type Timeline struct {
	ID    string `json:"id"`    // the key ID or principal ARN
	Label string `json:"label"` // "key AKIA… (alice)", "role deploy"
	// Days are the days with calls: OK successful calls, Failures the
	// others.
	Days []TimelineDay `json:"days"`
}

// TimelineDay is one day of a timeline.
type TimelineDay struct {
	Date     string `json:"date"` // YYYY-MM-DD
	OK       int64  `json:"ok"`
	Failures int64  `json:"failures"`
}

func (rv *reviewer) timelines() []Timeline {
	out := make([]Timeline, 0, len(rv.reviewed))
	for k, ref := range rv.reviewed {
		t := Timeline{ID: k[strings.IndexByte(k, ' ')+1:], Label: ref.label, Days: []TimelineDay{}}
		if ref.s != nil {
			for _, d := range ref.s.Days {
				t.Days = append(t.Days, TimelineDay{Date: d.Date.Format(time.DateOnly), OK: d.OK, Failures: d.Failures()})
			}
		}
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Label != out[j].Label {
			return out[i].Label < out[j].Label
		}
		return out[i].ID < out[j].ID
	})
	return out
}
