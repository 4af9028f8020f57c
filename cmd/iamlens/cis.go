package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer/cis"
	"github.com/iamlens/iamlens/analyzer/cis/collect"
)

type cisOptions struct {
	Snapshots    []string
	At           string
	Policy       string
	RoleName     string
	Org          bool
	Profile      string
	Regions      []string
	Benchmark    string
	Level        int
	Format       string
	Suppressions string
	FailOn       string
	Store        string
	NoEvidence   bool
	Concurrency  int
	ASFFRegion   string
	Progress     bool
	EndpointURL  string
	Now          func() time.Time
	Stdout       io.Writer
	Stderr       io.Writer
}

func newCISCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &cisOptions{}
	cmd := &cobra.Command{
		Use:   "cis",
		Short: "Check accounts against the CIS AWS Foundations Benchmark (IAM, storage, logging, monitoring, networking)",
		Long: `Check AWS accounts against the automatable controls of the CIS AWS Foundations
Benchmark (v1.2.0, v1.4.0, v1.5.0, v3.0.0). Each finding names the control, the
region, the resource, the evidence and the AWS CLI command that fixes it.

Without --snapshot the account is read live (read-only; --profile, --region)
and judged at the wall clock. With --snapshot, nothing is called: a file written
by 'iamlens collect', or a folder of AWS CLI outputs written by the script of
'iamlens collect --print-cli', judged at the time it was collected (--at
overrides; the report says which time it used). Repeat --snapshot, or read a
whole organization live with --role-name, for one report of several accounts:
a score per account ranked best first and each control across the accounts.

--policy sets per control track, notify or ignore (with a reason and an
expiry), due times per severity and account names; --format notify prints one
JSON line per failure to act on (with a Slack-ready text), slack the texts.
A control whose inputs could not be read is NOT_ASSESSABLE, never FAIL.
Exit code 3 when a failure at or above --fail-on remains after suppressions.`,
		Example: `  # offline, on a snapshot (here a bundled test fixture of a failing account)
  iamlens cis --snapshot testdata/cis/fail/snapshot.json

  # older numbering, level 1 only; exit 3 on a high or critical failure (for CI)
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --benchmark v1.4.0 --level 1 --fail-on high

  # SARIF for code scanning, ASFF for Security Hub
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --format sarif > cis.sarif
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --format asff > findings.json

  # two accounts in one ranked report, judged at a given time
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --snapshot testdata/cis/pass/snapshot.json --at 2026-12-01

  # notifications to act on, with a per-control policy
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --policy testdata/cis/policy.yaml --format notify

  # templates (they read a live AWS account): collect once, or check live
  iamlens collect --profile audit --out snapshot.json
  iamlens cis --profile audit --region us-east-1,eu-west-1

  # templates: no iamlens in the account (run the script in CloudShell, then read its folder)
  iamlens collect --print-cli > iamlens-cis.sh
  iamlens cis --snapshot iamlens-snapshot/

  # template: the whole organization, assuming a role in each account
  iamlens cis --role-name OrganizationAccountAccessRole --format markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile, o.Store = g.Profile, g.Store
			o.Progress = env.Interactive && !g.NoProgress
			o.Now = env.Now
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			return runCIS(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&o.Snapshots, "snapshot", nil, "evaluate this snapshot file or folder of AWS CLI outputs instead of reading AWS (repeat for several accounts)")
	f.StringVar(&o.At, "at", "", "judge at this time (RFC 3339 or YYYY-MM-DD) instead of the snapshot's collectedAt")
	f.StringVar(&o.Policy, "policy", "", "per-control policy file, YAML or JSON (track / notify / ignore, dueIn, accounts, suppressions)")
	f.StringVar(&o.RoleName, "role-name", "", "live, organization-wide: assume this role in every active account of the organization")
	regionFlag(f, &o.Regions, "live: only these regions (repeatable, comma-separated; default: every enabled region)")
	f.StringVar(&o.Benchmark, "benchmark", "v3.0.0", "benchmark version: v1.2.0, v1.4.0, v1.5.0 or v3.0.0 (1.2, cis-1.2 and the like work)")
	f.IntVar(&o.Level, "level", 2, "profile level: 1 (level 1 only) or 2 (levels 1 and 2)")
	f.StringVar(&o.Format, "format", "table", "output: "+strings.Join(cis.Formats, ", "))
	f.StringVar(&o.Suppressions, "suppressions", "", "JSON file of accepted findings (the older form of --policy's suppressions)")
	f.StringVar(&o.FailOn, "fail-on", "", "exit 3 when a failure of this severity or higher remains: low, medium, high or critical")
	f.BoolVar(&o.NoEvidence, "no-evidence", false, "skip the CloudTrail evidence from the dataset")
	f.IntVar(&o.Concurrency, "concurrency", 4, "live: regions read at once")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "live: send every AWS call to this endpoint, e.g. LocalStack (S3 in path style)")
	f.StringVar(&o.ASFFRegion, "securityhub-region", "us-east-1", "asff: the Security Hub region the findings are imported into (it is part of ProductArn)")
	completeValues(cmd, "format", cis.Formats...)
	completeValues(cmd, "fail-on", "low", "medium", "high", "critical")
	completeValues(cmd, "level", "1", "2")
	var benches []string
	for _, b := range cis.Benchmarks {
		benches = append(benches, string(b))
	}
	completeValues(cmd, "benchmark", benches...)
	return cmd
}

func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%q: want RFC 3339 (2026-12-01T09:00:00Z) or YYYY-MM-DD", s)
}

// readPolicyFile reads a --policy or --suppressions file.
func readPolicyFile(flag, path string) (*cis.Policy, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("", "%s: %v", flag, err)
	}
	defer f.Close()
	p, err := cis.ReadPolicy(f)
	if err != nil {
		return nil, usageErrorf("", "%s %s: %v", flag, path, err)
	}
	return p, nil
}

// readSnapshotArg reads a --snapshot: a file, or a folder of AWS CLI
// outputs.
func readSnapshotArg(path string) (*cis.Snapshot, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, usageErrorf("", "--snapshot: %v", err)
	}
	if st.IsDir() {
		return cis.ReadCLIFolder(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErrorf("", "--snapshot: %v", err)
	}
	defer f.Close()
	s, err := cis.ReadSnapshot(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func runCIS(ctx context.Context, o *cisOptions) error {
	bench, err := cis.ParseBenchmark(o.Benchmark)
	if err != nil {
		return usageErrorf("", "--benchmark: %v", err)
	}
	if o.Concurrency < 1 {
		return usageErrorf("", "--concurrency must be at least 1, not %d", o.Concurrency)
	}
	if o.Level != 1 && o.Level != 2 {
		return usageErrorf("", "--level must be 1 or 2, not %d", o.Level)
	}
	if !validFormat(o.Format) {
		return usageErrorf("", "--format must be one of %s, not %q", strings.Join(cis.Formats, ", "), o.Format)
	}
	var failOn cis.Severity
	if o.FailOn != "" {
		if failOn, err = cis.ParseSeverity(o.FailOn); err != nil {
			return usageErrorf("", "--fail-on: %v", err)
		}
	}
	if len(o.Snapshots) > 0 && len(o.Regions) > 0 {
		return usageErrorf("Restrict the regions when collecting: iamlens collect --region ...", "--region applies to live reads, not to --snapshot")
	}
	if len(o.Snapshots) > 0 && o.RoleName != "" {
		return usageErrorf("", "--role-name reads the organization live; it does not go with --snapshot")
	}
	var at time.Time
	if o.At != "" {
		if at, err = parseAt(o.At); err != nil {
			return usageErrorf("", "--at %v", err)
		}
	}
	policy := &cis.Policy{}
	if o.Policy != "" {
		p, err := readPolicyFile("--policy", o.Policy)
		if err != nil {
			return err
		}
		policy = p
	}
	if o.Suppressions != "" {
		p, err := readPolicyFile("--suppressions", o.Suppressions)
		if err != nil {
			return err
		}
		policy.Merge(p)
	}

	var snaps []*cis.Snapshot
	var unread []cis.AccountError
	live := len(o.Snapshots) == 0
	switch {
	case !live:
		for _, path := range o.Snapshots {
			s, err := readSnapshotArg(path)
			if err != nil {
				return err
			}
			snaps = append(snaps, s)
		}
	case o.RoleName != "":
		if snaps, unread, err = collectOrg(ctx, o); err != nil {
			return err
		}
	default:
		s, err := collectLive(ctx, liveOptions{o.Profile, o.Regions, o.Concurrency, o.EndpointURL, o.Progress}, o.Now, o.Stderr)
		if err != nil {
			return err
		}
		snaps = append(snaps, s)
	}

	var reports []*cis.Report
	for _, snap := range snaps {
		opts := cis.Options{Benchmark: bench, Level: o.Level, Now: o.Now, Policy: policy, At: at}
		if live && at.IsZero() {
			// A live read is judged at the wall clock.
			opts.At, opts.AtSource = o.Now(), cis.TimeNow
		}
		if !o.NoEvidence {
			ev, note, err := cisEvidence(ctx, o.Store, snap.AccountID)
			if err != nil {
				return err
			}
			opts.Evidence = ev
			if note != "" {
				opts.Notes = append(opts.Notes, note)
			}
		}
		rep, err := cis.Evaluate(snap, opts)
		if err != nil {
			return err
		}
		reports = append(reports, rep)
	}
	ro := cis.RenderOptions{Version: versionString(), Region: o.ASFFRegion, Policy: policy}
	if len(o.Snapshots) == 1 {
		ro.ArtifactURI = o.Snapshots[0]
	}
	if len(reports) == 1 && len(unread) == 0 && o.RoleName == "" {
		err = cis.Render(o.Stdout, reports[0], o.Format, ro)
	} else {
		err = cis.RenderCombined(o.Stdout, cis.Combine(reports, unread), o.Format, ro)
	}
	if err != nil {
		return err
	}
	if len(unread) > 0 {
		fmt.Fprintf(o.Stderr, "iamlens: %d of %d accounts could not be read (listed in the report)\n", len(unread), len(unread)+len(reports))
	}
	if failOn != 0 {
		n := 0
		for _, r := range reports {
			n += r.FailuresAtOrAbove(failOn)
		}
		if n > 0 {
			return &findingsError{msg: fmt.Sprintf("cis: %d failing findings at or above %s", n, failOn)}
		}
	}
	return nil
}

// collectOrg reads every active account of the organization, assuming
// --role-name in each (the caller's own account is read with the caller's
// credentials). Accounts whose role cannot be assumed are reported, not
// skipped silently.
func collectOrg(ctx context.Context, o *cisOptions) ([]*cis.Snapshot, []cis.AccountError, error) {
	cfg, copts, err := liveConfig(ctx, liveOptions{o.Profile, o.Regions, o.Concurrency, o.EndpointURL, o.Progress}, o.Now, o.Stderr)
	if err != nil {
		return nil, nil, err
	}
	accounts, err := collect.ListAccounts(ctx, cfg, copts)
	if err != nil {
		return nil, nil, err
	}
	self, err := collect.CallerAccount(ctx, cfg, copts)
	if err != nil {
		return nil, nil, err
	}
	var snaps []*cis.Snapshot
	var unread []cis.AccountError
	for _, a := range accounts {
		if a.Status != "ACTIVE" {
			fmt.Fprintf(o.Stderr, "iamlens: skipping account %s (%s): %s\n", a.ID, a.Name, a.Status)
			continue
		}
		acfg := cfg
		if a.ID != self {
			acfg = collect.AssumeRole(cfg, copts, "", a.ID, o.RoleName)
		}
		snap, err := collect.Collect(ctx, acfg, copts)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			unread = append(unread, cis.AccountError{AccountID: a.ID, AccountName: a.Name, Error: err.Error()})
			continue
		}
		snap.AccountName = a.Name
		snaps = append(snaps, snap)
	}
	return snaps, unread, nil
}

func validFormat(f string) bool {
	for _, x := range cis.Formats {
		if x == f {
			return true
		}
	}
	return false
}

// cisEvidence scans the dataset for the monitoring controls' events. An
// absent or empty dataset is a note, not an error.
func cisEvidence(ctx context.Context, dir, account string) (map[string]*cis.EventEvidence, string, error) {
	unavailable := "CloudTrail evidence not available: no events in the dataset at " + dir + " (run 'iamlens ingest' first, or pass --no-evidence)"
	if _, err := os.Stat(filepath.Join(dir, "events")); !isRemoteStore(dir) && errors.Is(err, os.ErrNotExist) {
		return nil, unavailable, nil
	}
	st, err := openStore(ctx, dir, false)
	if err != nil {
		return nil, "", err
	}
	q := cis.EvidenceQuery{}
	if account != "" {
		q.Accounts = []string{account}
	}
	ev, stats, err := cis.CollectEvidence(ctx, st, q)
	if err != nil {
		return nil, "", fmt.Errorf("cloudtrail evidence: %w", err)
	}
	if ev == nil {
		if files, err := st.Files(nil, time.Time{}, time.Time{}); err == nil && len(files) > 0 && account != "" {
			return nil, fmt.Sprintf("CloudTrail evidence not available: the dataset at %s holds no events of account %s", dir, account), nil
		}
		return nil, unavailable, nil
	}
	return ev, fmt.Sprintf("CloudTrail evidence: %d events read from %d files of %s (events of account %s only)", stats.RowsRead, stats.Files, dir, account), nil
}

// collectLive reads the account with the default credential chain.
// liveOptions are the flags of a live read, shared by cis and collect.
type liveOptions struct {
	Profile     string
	Regions     []string
	Concurrency int
	EndpointURL string
	// Progress sends a line per region and per failed read to stderr.
	Progress bool
}

// liveConfig loads the AWS configuration and the collector options of a
// live read.
func liveConfig(ctx context.Context, l liveOptions, now func() time.Time, stderr io.Writer) (aws.Config, collect.Options, error) {
	var lo []func(*config.LoadOptions) error
	if l.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(l.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return aws.Config{}, collect.Options{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	opts := collect.Options{Regions: l.Regions, Concurrency: l.Concurrency, Now: now}
	if l.EndpointURL != "" {
		opts.Endpoints = map[string]string{}
		for _, svc := range collect.Services {
			opts.Endpoints[svc] = l.EndpointURL
		}
	}
	if l.Progress {
		var mu sync.Mutex
		opts.Logf = func(format string, args ...any) {
			mu.Lock()
			defer mu.Unlock()
			fmt.Fprintf(stderr, "collect: "+format+"\n", args...)
		}
	}
	return cfg, opts, nil
}

func collectLive(ctx context.Context, l liveOptions, now func() time.Time, stderr io.Writer) (*cis.Snapshot, error) {
	cfg, opts, err := liveConfig(ctx, l, now, stderr)
	if err != nil {
		return nil, err
	}
	snap, err := collect.Collect(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if n := len(snap.Errors); n > 0 {
		fmt.Fprintf(stderr, "iamlens: %s failed; the controls needing them are NOT_ASSESSABLE (see \"errors\" in 'iamlens collect' output)\n", plural(n, "read"))
	}
	return snap, nil
}
