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

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer/cis"
	"github.com/iamlens/iamlens/analyzer/cis/collect"
	"github.com/iamlens/iamlens/ingest/store"
)

type cisOptions struct {
	Snapshot     string
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
		Short: "Check the account against the CIS AWS Foundations Benchmark (IAM, logging, monitoring, security groups)",
		Long: `Check an AWS account against the IAM, Logging and Monitoring sections of the CIS
AWS Foundations Benchmark and its security-group controls. Each finding names
the control, the region, the resource, the evidence and the AWS CLI command
that fixes it.

Without --snapshot the account is read live (read-only; --profile, --region).
With --snapshot FILE, a file written by 'iamlens collect' (or assembled with
the AWS CLI), nothing is called. For the monitoring controls, the events in the
dataset (--store) show whether such events really happened, and by whom.

A control whose inputs could not be read is NOT_ASSESSABLE, never FAIL.
Exit code 3 when a failure at or above --fail-on remains after suppressions.`,
		Example: `  # offline, on a snapshot (here a bundled test fixture of a failing account)
  iamlens cis --snapshot testdata/cis/fail/snapshot.json

  # older numbering, level 1 only; exit 3 on a high or critical failure (for CI)
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --benchmark v1.4.0 --level 1 --fail-on high

  # SARIF for code scanning, ASFF for Security Hub
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --format sarif > cis.sarif
  iamlens cis --snapshot testdata/cis/fail/snapshot.json --format asff > findings.json

  # templates (they read a live AWS account): collect once, or check live
  iamlens collect --profile audit --out snapshot.json
  iamlens cis --profile audit --region us-east-1,eu-west-1`,
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
	f.StringVar(&o.Snapshot, "snapshot", "", "evaluate this snapshot file instead of reading AWS")
	regionFlag(f, &o.Regions, "live: only these regions (repeatable, comma-separated; default: every enabled region)")
	f.StringVar(&o.Benchmark, "benchmark", "v3.0.0", "benchmark version: v1.2.0, v1.4.0, v1.5.0 or v3.0.0")
	f.IntVar(&o.Level, "level", 2, "profile level: 1 (level 1 only) or 2 (levels 1 and 2)")
	f.StringVar(&o.Format, "format", "table", "output: table, json, markdown, sarif or asff")
	f.StringVar(&o.Suppressions, "suppressions", "", "JSON file of accepted findings (checkId, account, region, resource, reason, expires)")
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
	if o.Snapshot != "" && len(o.Regions) > 0 {
		return usageErrorf("Restrict the regions when collecting: iamlens collect --region ...", "--region applies to live reads, not to --snapshot")
	}
	var sups []cis.Suppression
	if o.Suppressions != "" {
		f, err := os.Open(o.Suppressions)
		if err != nil {
			return usageErrorf("", "--suppressions: %v", err)
		}
		sups, err = cis.ReadSuppressions(f)
		f.Close()
		if err != nil {
			return usageErrorf("", "--suppressions %s: %v", o.Suppressions, err)
		}
	}

	var snap *cis.Snapshot
	if o.Snapshot != "" {
		f, err := os.Open(o.Snapshot)
		if err != nil {
			return usageErrorf("", "--snapshot: %v", err)
		}
		snap, err = cis.ReadSnapshot(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", o.Snapshot, err)
		}
	} else {
		if snap, err = collectLive(ctx, liveOptions{o.Profile, o.Regions, o.Concurrency, o.EndpointURL, o.Progress}, o.Now, o.Stderr); err != nil {
			return err
		}
	}

	opts := cis.Options{Benchmark: bench, Level: o.Level, Now: o.Now, Suppressions: sups}
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
	if err := cis.Render(o.Stdout, rep, o.Format, cis.RenderOptions{Version: versionString(), ArtifactURI: o.Snapshot, Region: o.ASFFRegion}); err != nil {
		return err
	}
	if failOn != 0 {
		if n := rep.FailuresAtOrAbove(failOn); n > 0 {
			return &findingsError{msg: fmt.Sprintf("cis: %d failing findings at or above %s", n, failOn)}
		}
	}
	return nil
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
	if _, err := os.Stat(filepath.Join(dir, "events")); errors.Is(err, os.ErrNotExist) {
		return nil, unavailable, nil
	}
	st, err := store.OpenExisting(dir)
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

func collectLive(ctx context.Context, l liveOptions, now func() time.Time, stderr io.Writer) (*cis.Snapshot, error) {
	var lo []func(*config.LoadOptions) error
	if l.Profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(l.Profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	opts := collect.Options{Regions: l.Regions, Concurrency: l.Concurrency, Now: now}
	if l.EndpointURL != "" {
		opts.Endpoints = map[string]string{}
		for _, svc := range []string{collect.ServiceAccessAnalyzer, collect.ServiceCloudTrail, collect.ServiceCloudWatch, collect.ServiceLogs, collect.ServiceConfig,
			collect.ServiceEC2, collect.ServiceIAM, collect.ServiceKMS, collect.ServiceS3, collect.ServiceSTS} {
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
	snap, err := collect.Collect(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	if n := len(snap.Errors); n > 0 {
		fmt.Fprintf(stderr, "iamlens: %s failed; the controls needing them are NOT_ASSESSABLE (see \"errors\" in 'iamlens collect' output)\n", plural(n, "read"))
	}
	return snap, nil
}
