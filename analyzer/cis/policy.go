package cis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The policy actions of a control.
const (
	// ActionNotify: failures count in the score and are sent by --format
	// notify and slack (the default).
	ActionNotify = "notify"
	// ActionTrack: failures count in the score and show in every report,
	// but are not sent as notifications.
	ActionTrack = "track"
	// ActionIgnore: the control is left out of the score (status IGNORED)
	// until the policy expires; it needs a reason and an expiry.
	ActionIgnore = "ignore"
)

// Ignored is the status of a control the policy ignores.
const Ignored Status = "IGNORED"

// Policy is the per-control policy file (--policy): what to do with each
// control, the accepted findings (suppressions), how long each severity
// has before it is due, and the names of accounts. The old suppressions
// file ({"suppressions": [...]} or a bare list) is a policy with
// suppressions only.
type Policy struct {
	// Default is the action of the controls Controls does not name
	// (notify when empty).
	Default  string                   `json:"default,omitempty"`
	Controls map[string]ControlPolicy `json:"controls,omitempty"`
	// Suppressions accept single findings (a check, a scope, a reason, an
	// expiry); iamlens cis --format notify prints the line to add here.
	Suppressions []Suppression `json:"suppressions,omitempty"`
	// DueIn is how long a failure of each severity (critical, high,
	// medium, low) has, from the evaluation time, before it is due: "24h",
	// "7d", "2w". Missing severities keep DefaultDueIn.
	DueIn map[string]string `json:"dueIn,omitempty"`
	// Accounts names accounts by ID, for reports and notifications.
	Accounts map[string]string `json:"accounts,omitempty"`

	due map[Severity]time.Duration
}

// ControlPolicy is the policy of one control.
type ControlPolicy struct {
	Action  string `json:"action"`
	Reason  string `json:"reason,omitempty"`
	Expires string `json:"expires,omitempty"`
	until   time.Time
}

// DefaultDueIn is how long each severity has when the policy says nothing.
var DefaultDueIn = map[Severity]time.Duration{
	Critical: 24 * time.Hour,
	High:     7 * 24 * time.Hour,
	Medium:   30 * 24 * time.Hour,
	Low:      90 * 24 * time.Hour,
}

// ReadPolicy reads a policy file, JSON or YAML. A bare JSON list is read as
// the old suppressions file.
func ReadPolicy(r io.Reader) (*Policy, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	trim := bytes.TrimSpace(b)
	if len(trim) == 0 {
		return nil, errors.New("the policy file is empty")
	}
	if trim[0] != '{' && trim[0] != '[' {
		// YAML: decode generically, then read the JSON form with the
		// same rules as a JSON file.
		var v any
		if err := yaml.Unmarshal(b, &v); err != nil {
			return nil, fmt.Errorf("decode policy: %w", err)
		}
		if trim, err = json.Marshal(v); err != nil {
			return nil, fmt.Errorf("decode policy: %w", err)
		}
	}
	p := &Policy{}
	if trim[0] == '[' {
		err = json.Unmarshal(trim, &p.Suppressions)
	} else {
		dec := json.NewDecoder(bytes.NewReader(trim))
		dec.DisallowUnknownFields()
		err = dec.Decode(p)
	}
	if err != nil {
		return nil, fmt.Errorf("decode policy: %w", err)
	}
	if err := p.validate(); err != nil {
		return nil, err
	}
	return p, nil
}

// parseExpiry reads YYYY-MM-DD (valid through that day, UTC) or RFC 3339.
func parseExpiry(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.Add(24*time.Hour - time.Nanosecond), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("expires %q: want YYYY-MM-DD", s)
}

// ParseDuration reads "36h", "7d", "2w" or a Go duration.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.ParseFloat(n, 64)
			if err != nil || v <= 0 {
				return 0, fmt.Errorf("duration %q: want e.g. 24h, 7d or 2w", s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("duration %q: want e.g. 24h, 7d or 2w", s)
	}
	return d, nil
}

func (p *Policy) validate() error {
	known := map[string]bool{}
	for _, c := range Checks() {
		known[c.ID] = true
	}
	switch p.Default {
	case "", ActionNotify, ActionTrack:
	default:
		return fmt.Errorf("policy default %q: want notify or track", p.Default)
	}
	ids := make([]string, 0, len(p.Controls))
	for id := range p.Controls {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := p.Controls[id]
		if !known[id] {
			return fmt.Errorf("policy control %q: no such check (iamlens cis --format json lists the checkId of every control)", id)
		}
		switch c.Action {
		case ActionNotify, ActionTrack:
		case ActionIgnore:
			if strings.TrimSpace(c.Reason) == "" || c.Expires == "" {
				return fmt.Errorf("policy control %s: ignore needs a reason and an expiry (expires: YYYY-MM-DD)", id)
			}
		default:
			return fmt.Errorf("policy control %s: action %q: want track, notify or ignore", id, c.Action)
		}
		if c.Expires != "" {
			t, err := parseExpiry(c.Expires)
			if err != nil {
				return fmt.Errorf("policy control %s: %w", id, err)
			}
			c.until = t
			p.Controls[id] = c
		}
	}
	for i := range p.Suppressions {
		s := &p.Suppressions[i]
		switch {
		case !known[s.CheckID]:
			return fmt.Errorf("suppression %d: unknown checkId %q", i+1, s.CheckID)
		case strings.TrimSpace(s.Reason) == "":
			return fmt.Errorf("suppression %d (%s): a reason is required", i+1, s.CheckID)
		case s.Resource != "":
			if _, err := path.Match(s.Resource, ""); err != nil {
				return fmt.Errorf("suppression %d (%s): resource pattern: %w", i+1, s.CheckID, err)
			}
		}
		if s.Expires != "" {
			t, err := parseExpiry(s.Expires)
			if err != nil {
				return fmt.Errorf("suppression %d (%s): %w", i+1, s.CheckID, err)
			}
			s.until = t
		}
	}
	p.due = map[Severity]time.Duration{}
	for k, v := range DefaultDueIn {
		p.due[k] = v
	}
	for name, v := range p.DueIn {
		sev, err := ParseSeverity(name)
		if err != nil {
			return fmt.Errorf("policy dueIn: %w", err)
		}
		d, err := ParseDuration(v)
		if err != nil {
			return fmt.Errorf("policy dueIn %s: %w", name, err)
		}
		p.due[sev] = d
	}
	return nil
}

// Merge adds the controls, suppressions, due times and account names of
// other to p (other wins where both name the same control or account).
func (p *Policy) Merge(other *Policy) {
	if other == nil {
		return
	}
	if other.Default != "" {
		p.Default = other.Default
	}
	for id, c := range other.Controls {
		if p.Controls == nil {
			p.Controls = map[string]ControlPolicy{}
		}
		p.Controls[id] = c
	}
	p.Suppressions = append(p.Suppressions, other.Suppressions...)
	for k, v := range other.DueIn {
		if p.DueIn == nil {
			p.DueIn = map[string]string{}
		}
		p.DueIn[k] = v
	}
	for k, v := range other.Accounts {
		if p.Accounts == nil {
			p.Accounts = map[string]string{}
		}
		p.Accounts[k] = v
	}
	if p.due == nil {
		p.due = map[Severity]time.Duration{}
		for k, v := range DefaultDueIn {
			p.due[k] = v
		}
	}
	for k, v := range other.due {
		if _, named := other.DueIn[strings.ToLower(k.String())]; named || p.due[k] == 0 {
			p.due[k] = v
		}
	}
}

// action is the policy's action for a check at time now (an expired
// ignore falls back to the default).
func (p *Policy) action(checkID string, now time.Time) string {
	def := ActionNotify
	if p == nil {
		return def
	}
	if p.Default != "" {
		def = p.Default
	}
	c, ok := p.Controls[checkID]
	if !ok {
		return def
	}
	if !c.until.IsZero() && now.After(c.until) {
		return def
	}
	return c.Action
}

// ignoreReason is the reason and expiry of an ignored control.
func (p *Policy) ignoreReason(checkID string) (string, string) {
	c := p.Controls[checkID]
	return c.Reason, c.Expires
}

func (p *Policy) suppressions() []Suppression {
	if p == nil {
		return nil
	}
	return p.Suppressions
}

func (p *Policy) expiredNotes(now time.Time) []string {
	if p == nil {
		return nil
	}
	var out []string
	ids := make([]string, 0, len(p.Controls))
	for id := range p.Controls {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		c := p.Controls[id]
		if !c.until.IsZero() && now.After(c.until) {
			out = append(out, fmt.Sprintf("policy for %s (%s: %s) expired on %s and no longer applies", id, c.Action, c.Reason, c.Expires))
		}
	}
	return out
}

// Due is when a failure of severity sev found at evaluatedAt is due.
func (p *Policy) Due(sev Severity, evaluatedAt time.Time) time.Time {
	d := DefaultDueIn[sev]
	if p != nil && p.due[sev] > 0 {
		d = p.due[sev]
	}
	return evaluatedAt.Add(d)
}

// AccountName is the policy's name for an account, or "".
func (p *Policy) AccountName(id string) string {
	if p == nil {
		return ""
	}
	return p.Accounts[id]
}
