// Package cis checks an AWS account against the IAM, Logging, Monitoring
// and security-group Networking controls of the CIS AWS Foundations
// Benchmark (v1.2.0, v1.4.0, v1.5.0 and v3.0.0 through one crosswalk).
//
// The checks are data (Checks): a stable ID, per-benchmark control
// numbers, level, severity and a predicate over a Snapshot, the AWS API
// outputs collected live (package collect) or assembled with the AWS CLI.
// Evaluate runs them and returns a Report of findings (PASS, FAIL, MANUAL,
// NOT_ASSESSABLE), each with its evidence and the AWS CLI command that fixes
// it; what the snapshot could not read is NOT_ASSESSABLE, never FAIL.
// Render writes a Report as a table, JSON, Markdown, SARIF 2.1.0 or ASFF.
// Evidence adds, for the monitoring controls, what the ingested CloudTrail
// dataset shows actually happened.
package cis

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// Benchmark is a CIS AWS Foundations Benchmark version.
type Benchmark string

// The supported benchmark versions.
const (
	V120 Benchmark = "v1.2.0"
	V140 Benchmark = "v1.4.0"
	V150 Benchmark = "v1.5.0"
	V300 Benchmark = "v3.0.0"
)

// Benchmarks lists the supported versions, oldest first.
var Benchmarks = []Benchmark{V120, V140, V150, V300}

// ParseBenchmark accepts what people type for a version: "v3.0.0",
// "3.0.0", "3.0", "3", "V1.2", "cis-1.2", "CIS v1.4.0", "cis_1.5". The error
// names the input as given.
func ParseBenchmark(s string) (Benchmark, error) {
	in := s
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimPrefix(s, "cis")
	s = strings.TrimLeft(s, " -_")
	s = strings.TrimPrefix(s, "v")
	switch strings.Count(s, ".") {
	case 0:
		s += ".0.0"
	case 1:
		s += ".0"
	}
	for _, b := range Benchmarks {
		if string(b) == "v"+s {
			return b, nil
		}
	}
	return "", fmt.Errorf("benchmark %q: want one of v1.2.0, v1.4.0, v1.5.0, v3.0.0 (1.2, cis-1.2 and the like are accepted)", in)
}

// Severity ranks a failing control.
type Severity int

// Severities, lowest first.
const (
	Low Severity = iota + 1
	Medium
	High
	Critical
)

var severityNames = map[Severity]string{Low: "LOW", Medium: "MEDIUM", High: "HIGH", Critical: "CRITICAL"}

func (s Severity) String() string { return severityNames[s] }

// MarshalJSON writes the upper-case name.
func (s Severity) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// UnmarshalJSON reads a name in any case.
func (s *Severity) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err != nil {
		return err
	}
	v, err := ParseSeverity(name)
	*s = v
	return err
}

// ParseSeverity reads low, medium, high or critical (any case).
func ParseSeverity(s string) (Severity, error) {
	for k, v := range severityNames {
		if strings.EqualFold(v, s) {
			return k, nil
		}
	}
	return 0, fmt.Errorf("severity %q: want low, medium, high or critical", s)
}

// Status is the outcome of a check on one resource, or of a control.
type Status string

// Statuses. SUPPRESSED is only a control status: every failure of the
// control is suppressed and nothing passed.
const (
	Pass          Status = "PASS"
	Fail          Status = "FAIL"
	Manual        Status = "MANUAL"
	NotAssessable Status = "NOT_ASSESSABLE"
	Suppressed    Status = "SUPPRESSED"
)

// Check is one control, as data.
type Check struct {
	ID       string
	Title    string
	Section  string // IAM, Logging, Monitoring, Networking
	Level    int
	Severity Severity
	// Controls gives the control in each benchmark version that has it
	// (crosswalk.go); a version missing here does not run the check.
	Controls map[Benchmark]Control
	// Manual checks have no API to read; they always report MANUAL with
	// what to verify by hand.
	Manual bool
	// Guidance is what to check by hand (manual) or a note on the check.
	Guidance string
	eval     func(*env) []Finding
}

// Control is a check's control in one benchmark version: its number, the
// level and title that version gives it, and what the version asks where
// versions differ.
type Control struct {
	ID    string
	Title string
	Level int
	// Scope says which customer managed policies iam-no-admin-policies
	// judges: ScopeCreated (v1.2.0 1.22, "are not created": every one) or
	// ScopeAttached (v1.4.0+ 1.16, "are not attached").
	Scope string
	// Days is the age limit where versions differ (iam-unused-credentials:
	// 90 in v1.2.0, 45 later).
	Days int
	// Ports and Sources are what the network checks look for: ingress to
	// these ports from these CIDRs; UDP adds UDP to TCP (v3.0.0 names TCP,
	// UDP and all protocols).
	Ports   []int32
	Sources []string
	UDP     bool
}

// The scopes of iam-no-admin-policies.
const (
	ScopeCreated  = "created"
	ScopeAttached = "attached"
)

var (
	adminPorts = []int32{22, 3389}
	world4     = []string{"0.0.0.0/0"}
	world6     = []string{"::/0"}
	worldAny   = []string{"0.0.0.0/0", "::/0"}
)

// Finding is the result of a check on one resource.
type Finding struct {
	CheckID  string   `json:"checkId"`
	Control  string   `json:"control"`
	Title    string   `json:"title"`
	Section  string   `json:"section"`
	Level    int      `json:"level"`
	Severity Severity `json:"severity"`
	Status   Status   `json:"status"`
	Region   string   `json:"region,omitempty"`
	Resource string   `json:"resource"`
	// Part names the part of the resource when one resource has several
	// findings of a check (access_key_1, password).
	Part     string `json:"part,omitempty"`
	Evidence string `json:"evidence"`
	// Fix is the AWS CLI command (or commands, one a line) that makes the
	// resource pass; placeholders are in <ANGLE_BRACKETS>.
	Fix        string         `json:"fix,omitempty"`
	Suppressed *Suppression   `json:"suppressed,omitempty"`
	Events     *EventEvidence `json:"events,omitempty"`
}

// env is what a predicate reads.
type env struct {
	s     *Snapshot
	bench Benchmark
	// ctl is the control being evaluated, in bench.
	ctl  Control
	now  time.Time
	acct string
	part string

	credRows []iamstate.CredentialReportRow
	credErr  string
	// iam is the account state built from s.IAM (the checks that read the
	// authorization details use it).
	iam    *iamstate.Account
	trails []trailView
}

// trailView is one trail, deduplicated across the regions that list it
// (shadow trails), with its status and selectors if they were read.
type trailView struct {
	Trail
	Status    *TrailStatus
	Selectors *EventSelectorsOutput
	// Foreign is set when the trail belongs to another account (an
	// organization trail seen from a member account).
	Foreign bool
}

func newEnv(s *Snapshot, bench Benchmark, now time.Time) *env {
	e := &env{s: s, bench: bench, now: now, acct: s.AccountID, part: s.Partition}
	if e.part == "" {
		e.part = "aws"
	}
	switch {
	case s.IAM.CredentialReport == nil:
		e.credErr = notRead(s, "", "iam", "GetCredentialReport", "the credential report")
	default:
		rep, err := s.IAM.CredentialReport.Parse()
		if err != nil {
			e.credErr = err.Error()
		} else {
			e.credRows = rep.Rows
		}
	}
	e.iam = iamstate.Build(&iamstate.Input{AccountID: s.AccountID, Partition: s.Partition, CollectedAt: s.CollectedAt.Time, Outputs: s.IAM.Outputs})
	seen := map[string]int{}
	regions := make([]string, 0, len(s.Regions))
	for r := range s.Regions {
		regions = append(regions, r)
	}
	sort.Strings(regions)
	for _, r := range regions {
		rs := s.Regions[r]
		if rs == nil || rs.DescribeTrails == nil {
			continue
		}
		for _, t := range rs.DescribeTrails.TrailList {
			if _, ok := seen[t.TrailARN]; ok {
				continue
			}
			seen[t.TrailARN] = len(e.trails)
			e.trails = append(e.trails, trailView{Trail: t, Foreign: arnAccount(t.TrailARN) != "" && e.acct != "" && arnAccount(t.TrailARN) != e.acct})
		}
	}
	for i := range e.trails {
		t := &e.trails[i]
		for _, r := range regions {
			rs := s.Regions[r]
			if rs == nil {
				continue
			}
			if st, ok := rs.TrailStatus[t.TrailARN]; ok && t.Status == nil {
				t.Status = st
			}
			if sel, ok := rs.EventSelectors[t.TrailARN]; ok && t.Selectors == nil {
				t.Selectors = sel
			}
		}
	}
	sort.Slice(e.trails, func(i, j int) bool { return e.trails[i].TrailARN < e.trails[j].TrailARN })
	return e
}

// notRead explains why an input is missing: the recorded error, or "not
// collected".
func notRead(s *Snapshot, region, service, op, what string) string {
	if ce := s.failed(region, service, op); ce != nil {
		return fmt.Sprintf("%s: could not be read (%s %s: %s)", what, service, ce.Operation, ce.Message)
	}
	return what + ": not in the snapshot"
}

func (e *env) rootARN() string { return fmt.Sprintf("arn:%s:iam::%s:root", e.part, e.acct) }

func arnAccount(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[4]
}

func arnRegion(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return ""
	}
	return parts[3]
}

func pass(region, resource, evidence string) Finding {
	return Finding{Status: Pass, Region: region, Resource: resource, Evidence: evidence}
}

func fail(region, resource, evidence, fix string) Finding {
	return Finding{Status: Fail, Region: region, Resource: resource, Evidence: evidence, Fix: fix}
}

func notAssessable(region, resource, evidence string) Finding {
	return Finding{Status: NotAssessable, Region: region, Resource: resource, Evidence: evidence}
}

// compareControls orders dotted control numbers numerically ("1.9" < "1.10").
func compareControls(a, b string) int {
	pa, pb := strings.FieldsFunc(a, splitControl), strings.FieldsFunc(b, splitControl)
	for i := 0; i < len(pa) && i < len(pb); i++ {
		x, errx := strconv.Atoi(pa[i])
		y, erry := strconv.Atoi(pb[i])
		if errx == nil && erry == nil && x != y {
			if x < y {
				return -1
			}
			return 1
		}
		if c := strings.Compare(pa[i], pb[i]); errx != nil && c != 0 {
			return c
		}
	}
	return len(pa) - len(pb)
}

func splitControl(r rune) bool { return r == '.' || r == ',' || r == ' ' }

// shq quotes s for a POSIX shell.
func shq(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,@+", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}
