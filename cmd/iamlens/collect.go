package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer/cis"
	"github.com/iamlens/iamlens/analyzer/cis/collect"
)

type collectOptions struct {
	Out         string
	Profile     string
	Regions     []string
	Concurrency int
	PrintPolicy bool
	PrintCLI    bool
	Progress    bool
	EndpointURL string
	Now         func() time.Time
	Stdout      io.Writer
	Stderr      io.Writer
}

func newCollectCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &collectOptions{}
	cmd := &cobra.Command{
		Use:   "collect",
		Short: "Read, read-only, what 'iamlens cis' checks into a snapshot file",
		Long: `Read the AWS API outputs the CIS checks need (IAM, CloudTrail, S3 buckets of the
trails, KMS, CloudWatch Logs and alarms, Config, EC2, Access Analyzer) from every
enabled region into one JSON file, in AWS's own output shapes. 'iamlens cis
--snapshot FILE' then evaluates it with no credentials.

Only read calls are made; iam:GenerateCredentialReport asks IAM to build the
credential report and changes nothing. --print-policy shows the minimal policy.
Reads that fail are listed under "errors" in the file.`,
		Example: `  # the minimal IAM policy collect needs (no AWS call)
  iamlens collect --print-policy > iamlens-cis-policy.json

  # the AWS CLI commands that write the same snapshot's outputs, for CloudShell
  iamlens collect --print-cli > iamlens-cis.sh

  # templates (they read a live AWS account)
  iamlens collect --out snapshot.json
  iamlens collect --profile audit --region us-east-1,eu-west-1 --out snapshot.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Profile = g.Profile
			o.Progress = env.Interactive && !g.NoProgress
			o.Now = env.Now
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			return runCollect(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Out, "out", "", "snapshot file to write (- for stdout)")
	regionFlag(f, &o.Regions, "only these regions (repeatable, comma-separated; default: every enabled region)")
	f.IntVar(&o.Concurrency, "concurrency", 4, "regions read at once")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "send every AWS call to this endpoint, e.g. LocalStack (S3 in path style)")
	f.BoolVar(&o.PrintPolicy, "print-policy", false, "print the minimal IAM policy collect needs, and exit")
	f.BoolVar(&o.PrintCLI, "print-cli", false, "print a bash script of the AWS CLI commands that make the same snapshot as a folder (for CloudShell; read it with iamlens cis --snapshot FOLDER), and exit")
	return cmd
}

func runCollect(ctx context.Context, o *collectOptions) error {
	if o.PrintPolicy {
		_, err := o.Stdout.Write(collect.Policy)
		return err
	}
	if o.PrintCLI {
		return cis.PrintCLI(o.Stdout, o.Regions)
	}
	if o.Concurrency < 1 {
		return usageErrorf("", "--concurrency must be at least 1, not %d", o.Concurrency)
	}
	if o.Out == "" {
		return usageErrorf("e.g. iamlens collect --out snapshot.json", "--out is required")
	}
	snap, err := collectLive(ctx, liveOptions{o.Profile, o.Regions, o.Concurrency, o.EndpointURL, o.Progress}, o.Now, o.Stderr)
	if err != nil {
		return err
	}
	if err := writeSnapshotFile(o.Out, o.Stdout, snap); err != nil {
		return err
	}
	if o.Out != "-" {
		fmt.Fprintf(o.Stderr, "wrote %s: account %s, %s, %s, %s\n", o.Out, snap.AccountID, plural(len(snap.Regions), "region"),
			plural(len(snap.Buckets), "bucket"), plural(len(snap.Errors), "failed read"))
	}
	return nil
}

// writeSnapshotFile writes atomically: a temporary file renamed into place.
func writeSnapshotFile(path string, stdout io.Writer, snap *cis.Snapshot) error {
	if path == "-" {
		return cis.WriteSnapshot(stdout, snap)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".snapshot-*.json")
	if err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := cis.WriteSnapshot(tmp, snap); err != nil {
		tmp.Close()
		return fmt.Errorf("write snapshot: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write snapshot: %w", err)
	}
	return os.Rename(tmp.Name(), path)
}
