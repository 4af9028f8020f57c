package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/policygen/keyplan"
	"github.com/iamlens/iamlens/policygen/keyplan/apply"
)

func newKeysCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Retire unused access keys in stages: plan, then apply",
		Long: `'keys plan' turns the review's never-used, unused and failing-only keys into a
staged plan: deactivate for 10 minutes and reactivate, days later for a day,
then for 30 days, then delete. 'keys apply' carries out the step that is due:
the only iamlens command that changes AWS, a dry run unless --yes.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newKeysPlanCmd(env, g), newKeysApplyCmd(env, g))
	return cmd
}

type keysPlanOptions struct {
	reviewInputs
	Format      string
	Out         string
	Start       string
	TZ          string
	Stage2After time.Duration
	Stage3After time.Duration
	Weekends    bool
	Stdout      io.Writer
}

func newKeysPlanCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &keysPlanOptions{Stage2After: 3 * 24 * time.Hour, Stage3After: 7 * 24 * time.Hour}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Plan the staged retirement of never-used, unused and failing-only access keys",
		Long: `Review the account (the same inputs as 'iamlens review') and plan, for each
never-used, unused or failing-only access key, four stages:

  1. deactivate for 10 minutes, then reactivate;
  2. --stage2-after later (default 3 days): deactivate for 1 day, then reactivate;
  3. --stage3-after after that (default 7 days): deactivate for 30 days;
  4. delete.

Each step has its date, the exact aws iam command, the rollback and what to
watch. Stages never start on a Saturday or Sunday (in --tz) unless --weekends.
Periodic keys are never planned. A key used since the plan was made stops its
plan ('keys apply' checks). Stage 1 starts at 10:00 of the next working day
after the state's time unless --start says.

--format json is the plan 'keys apply' reads; csv, ics (a calendar with one
event per stage) and markdown (for a ticket) are for people.`,
		Example: `  # the plan for a purpose-built snapshot, as a ticket
  iamlens keys plan --snapshot testdata/cis/fail/snapshot.json --format markdown

  # templates: your own account
  iamlens keys plan --snapshot snapshot.json --out plan.json
  iamlens keys plan --snapshot snapshot.json --format ics --out plan.ics --tz Europe/Paris
  iamlens keys plan --live --profile audit --format markdown`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store, o.Profile, o.Now, o.Stdout, o.Stderr = g.Store, g.Profile, env.Now, env.Stdout, env.Stderr
			o.Ingest = reviewIngest(&o.reviewInputs, g, env)
			return runKeysPlan(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	addReviewFlags(f, &o.reviewInputs)
	f.StringVar(&o.Format, "format", "json", "output: "+strings.Join(keyplan.Formats, ", "))
	f.StringVar(&o.Out, "out", "", "write the plan to this file (mode 0600) instead of stdout")
	f.StringVar(&o.Start, "start", "", "when stage 1 starts, YYYY-MM-DD or RFC 3339 (default: 10:00 of the next working day)")
	f.StringVar(&o.TZ, "tz", "UTC", "time zone of weekends and the default start (IANA name, e.g. Europe/Paris)")
	f.Var((*days)(&o.Stage2After), "stage2-after", "wait between stage 1 and stage 2")
	f.Var((*days)(&o.Stage3After), "stage3-after", "wait between the end of stage 2 and stage 3")
	f.BoolVar(&o.Weekends, "weekends", false, "let stages start on Saturdays and Sundays")
	return cmd
}

func runKeysPlan(ctx context.Context, o *keysPlanOptions) error {
	if !slices.Contains(keyplan.Formats, o.Format) {
		return usageErrorf("", "--format must be one of %s, not %q", strings.Join(keyplan.Formats, ", "), o.Format)
	}
	loc, err := time.LoadLocation(o.TZ)
	if err != nil {
		return usageErrorf("", "--tz: %v", err)
	}
	start, err := parseDay(o.Start)
	if err != nil {
		return usageErrorf("", "--start: %v", err)
	}
	if len(o.Start) == len("2006-01-02") {
		start = time.Date(start.Year(), start.Month(), start.Day(), 10, 0, 0, 0, loc)
	}
	in, err := o.load(ctx)
	if err != nil {
		return err
	}
	rep, err := review.Review(ctx, review.Options{Rules: o.Rules, At: in.At, Account: in.Account, Activity: in.Activity})
	if err != nil {
		return err
	}
	plan, err := keyplan.Build(rep, keyplan.Options{Now: in.At, Start: start, Location: loc, Stage2After: o.Stage2After,
		Stage3After: o.Stage3After, Weekends: o.Weekends})
	if err != nil {
		return err
	}
	if err := writeOutput(o.Out, o.Stdout, func(w io.Writer) error { return keyplan.Render(w, plan, o.Format, in.At) }); err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "keys plan: %d keys to retire, %d not planned (judged at %s)\n", len(plan.Schedule), len(plan.Skipped), in.At.Format(time.RFC3339))
	return nil
}

type keysApplyOptions struct {
	Plan        string
	Stage       int
	Yes         bool
	Audit       string
	At          string
	PrintPolicy bool
	EndpointURL string
	Profile     string
	Store       string
	Now         func() time.Time
	Stdout      io.Writer
	Stderr      io.Writer
}

func newKeysApplyCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &keysApplyOptions{}
	cmd := &cobra.Command{
		Use:   "apply PLAN.json",
		Short: "Carry out the due step of a key plan (dry run unless --yes)",
		Long: `Carry out, for each key of the plan, the step that is due now (or only those of
--stage N). This is the only iamlens command that changes AWS.

  - Without --yes it is a dry run: it reads the keys and prints the calls it
    would make.
  - Before turning a key off it checks the key's last use
    (iam:GetAccessKeyLastUsed): a key used since the plan was made stops its
    plan. A failing-only key's calls fail, so its last-used date keeps moving:
    only a successful call in the dataset (--store, with logs since the plan)
    stops it, and without such logs the step waits.
  - It reads each key's state first: running it twice does nothing new. A key
    deleted by someone else in between is reported, not an error. A key turned
    back on during stage 3 is never deleted.
  - Every call made or refused goes to the audit log (JSON lines: time, caller
    from sts:GetCallerIdentity, call, result), appended, mode 0600.

Run it from cron or CI every few minutes during a stage, or by hand at the times
of the plan. --print-policy prints the minimal IAM policy it needs.
Exit code 3 when a key's plan stopped or waits, 1 when a call failed.`,
		Example: `  # the IAM policy 'keys apply' needs, to attach to whoever runs it
  iamlens keys apply --print-policy > iamlens-keys-apply-policy.json

  # templates: a plan written by 'iamlens keys plan --out plan.json'
  iamlens keys apply plan.json
  iamlens keys apply plan.json --yes
  iamlens keys apply plan.json --stage 1 --yes --audit /var/log/iamlens-keys.jsonl`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.PrintPolicy {
				return cobra.NoArgs(cmd, args)
			}
			return cobra.ExactArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				o.Plan = args[0]
			}
			o.Profile, o.Store, o.Now, o.Stdout, o.Stderr = g.Profile, g.Store, env.Now, env.Stdout, env.Stderr
			return runKeysApply(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.Stage, "stage", 0, "run only this stage's steps (1 to 4)")
	f.BoolVar(&o.Yes, "yes", false, "make the calls (default: dry run)")
	f.StringVar(&o.Audit, "audit", "", "audit log to append to (default: PLAN.audit.jsonl beside the plan)")
	f.StringVar(&o.At, "at", "", "act as if it were this time (RFC 3339; default: now)")
	f.BoolVar(&o.PrintPolicy, "print-policy", false, "print the minimal IAM policy keys apply needs, and exit")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "send IAM and STS calls to this endpoint")
	return cmd
}

func runKeysApply(ctx context.Context, o *keysApplyOptions) error {
	if o.PrintPolicy {
		_, err := o.Stdout.Write(apply.Policy)
		return err
	}
	if o.Stage < 0 || o.Stage > 4 {
		return usageErrorf("", "--stage must be 1 to 4, not %d", o.Stage)
	}
	fh, err := os.Open(o.Plan)
	if err != nil {
		return usageErrorf("write one with: iamlens keys plan --snapshot snapshot.json --out plan.json", "%v", err)
	}
	plan, err := keyplan.Read(fh)
	fh.Close()
	if err != nil {
		return fmt.Errorf("%s: %w", o.Plan, err)
	}
	now := o.Now
	if o.At != "" {
		at, err := parseDay(o.At)
		if err != nil {
			return usageErrorf("", "--at: %v", err)
		}
		now = func() time.Time { return at }
	}
	cfg, err := awsConfig(ctx, o.Profile)
	if err != nil {
		return err
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	retryer := func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 10 })
	}
	ic := iam.NewFromConfig(cfg, func(io *iam.Options) {
		if o.EndpointURL != "" {
			io.BaseEndpoint = aws.String(o.EndpointURL)
		}
		io.Retryer = retryer()
	})
	sc := sts.NewFromConfig(cfg, func(so *sts.Options) {
		if o.EndpointURL != "" {
			so.BaseEndpoint = aws.String(o.EndpointURL)
		}
		so.Retryer = retryer()
	})
	opts := apply.Options{Now: now, Stage: o.Stage, Yes: o.Yes, Out: o.Stdout}
	if st, err := openStoreForRead(ctx, o.Store); err == nil {
		opts.Success = &review.RollupUsage{Store: st, Notice: rollupNotice(o.Stderr)}
	} else if !errors.Is(err, store.ErrEmpty) {
		return err
	}
	if o.Yes {
		path := o.Audit
		if path == "" {
			path = strings.TrimSuffix(o.Plan, ".json") + ".audit.jsonl"
		}
		audit, err := apply.OpenAudit(path)
		if err != nil {
			return err
		}
		if prev, err := os.Open(path); err == nil {
			opts.Previous, err = apply.ReadAudit(prev)
			prev.Close()
			if err != nil {
				audit.Close()
				return err
			}
		}
		defer audit.Close()
		opts.Audit = audit
		fmt.Fprintf(o.Stderr, "keys apply: acting; audit log %s\n", path)
	} else {
		fmt.Fprintln(o.Stderr, "keys apply: dry run (nothing is changed; --yes to act)")
	}
	sum, err := apply.Run(ctx, plan, ic, sc, opts)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.Stderr, "keys apply as %s: %d done, %d would be done, %d already so, %d not due, %d stopped, %d waiting, %d gone, %d failed\n",
		sum.Caller.ARN, sum.Count(apply.Done), sum.Count(apply.WouldCall), sum.Count(apply.NothingToDo), sum.Count(apply.NotDue),
		sum.Count(apply.Stopped), sum.Count(apply.Unconfirmed), sum.Count(apply.Gone), sum.Count(apply.Failed))
	if n := sum.Count(apply.Failed); n > 0 {
		return fmt.Errorf("keys apply: %d calls failed (see above and the audit log)", n)
	}
	if n := sum.Count(apply.Stopped) + sum.Count(apply.Unconfirmed); n > 0 {
		return &findingsError{msg: fmt.Sprintf("keys apply: %d keys stopped or waiting: they were used since the plan, or their use cannot be checked", n)}
	}
	return nil
}
