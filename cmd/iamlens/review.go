package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/analyzer/iamstate/live"
	"github.com/iamlens/iamlens/analyzer/review"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/policygen/keyplan"
)

// reviewInputs are the inputs review and keys plan share: the dataset, the
// account's IAM state, "now" and the rules.
type reviewInputs struct {
	Store            string
	Profile          string
	Logs             []string
	Snapshot         string
	CredentialReport string
	GAAD             string
	Live             bool
	EndpointURL      string
	Accounts         []string
	At               string
	Rules            review.Rules
	Engine           engineOptions
	Ingest           *ingestOptions
	Now              func() time.Time
	Stderr           io.Writer
}

// addReviewFlags registers the shared flags.
func addReviewFlags(f *pflag.FlagSet, in *reviewInputs) {
	in.Rules = review.DefaultRules()
	engineFlags(f, &in.Engine)
	f.StringSliceVar(&in.Logs, "logs", nil, "ingest these folders or s3:// prefixes into --store first")
	f.StringVar(&in.Snapshot, "snapshot", "", "the account's IAM state: a snapshot from 'iamlens collect'")
	f.StringVar(&in.CredentialReport, "credential-report", "", "the account's credential report (CSV, or the JSON of aws iam get-credential-report)")
	f.StringVar(&in.GAAD, "gaad", "", "aws iam get-account-authorization-details output (users, roles, RoleLastUsed, tags)")
	f.BoolVar(&in.Live, "live", false, "read the IAM state from AWS (read-only; --profile)")
	f.StringVar(&in.EndpointURL, "endpoint-url", "", "live: send IAM and STS calls to this endpoint")
	f.StringSliceVar(&in.Accounts, "account", nil, "only events of these accounts (default: the state's account)")
	f.StringVar(&in.At, "at", "", "judge at this time, YYYY-MM-DD or RFC 3339 (default: when the state was read)")
	f.Var((*days)(&in.Rules.Window), "window", "unused after this long without use (e.g. 90d)")
	f.Var((*days)(&in.Rules.NeverUsedAge), "never-used-age", "flag active keys never used once older than this")
	f.Var((*days)(&in.Rules.StaleAge), "stale-age", "flag keys in use and not rotated for longer than this")
	f.Var((*days)(&in.Rules.FailingWindow), "failing-window", "failing-only: calls but no successful one in this span")
	f.IntVar(&in.Rules.PeriodicMinDays, "periodic-min-days", in.Rules.PeriodicMinDays, "periodic: successful calls on at least this many days")
	f.Var((*days)(&in.Rules.PeriodicMinGap), "periodic-min-gap", "periodic: every gap between days of use at least this long")
	f.Var((*days)(&in.Rules.PeriodicGrace), "periodic-grace", "periodic: the last use within the largest gap plus this")
}

// days is a duration flag that also takes days ("90d") and weeks ("2w").
type days time.Duration

func (d *days) String() string {
	v := time.Duration(*d)
	if v%(24*time.Hour) == 0 {
		return strconv.Itoa(int(v/(24*time.Hour))) + "d"
	}
	return v.String()
}

func (d *days) Set(s string) error {
	v, err := parseDays(s)
	if err != nil {
		return err
	}
	*d = days(v)
	return nil
}

func (d *days) Type() string { return "duration" }

func parseDays(s string) (time.Duration, error) {
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if n, ok := strings.CutSuffix(s, suffix); ok {
			v, err := strconv.Atoi(n)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("want a number of days like 90d, got %q", s)
			}
			return time.Duration(v) * unit, nil
		}
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want a duration like 90d, 2w or 36h, got %q", s)
	}
	return v, nil
}

// loaded is what the shared inputs read.
type loaded struct {
	Account  *iamstate.Account
	Activity *review.Activity
	Usage    *review.RollupUsage
	At       time.Time
}

func (in *reviewInputs) load(ctx context.Context) (*loaded, error) {
	if err := in.Rules.Validate(); err != nil {
		return nil, usageErrorf("", "%v", err)
	}
	if err := in.Engine.validate(in.Store); err != nil {
		return nil, err
	}
	files := iamstate.Files{Snapshot: in.Snapshot, GAAD: in.GAAD, CredentialReport: in.CredentialReport}
	hasFiles := files != (iamstate.Files{})
	if in.Live && hasFiles {
		return nil, usageErrorf("", "give the IAM state from files or --live, not both")
	}
	at, err := parseDay(in.At)
	if err != nil {
		return nil, usageErrorf("", "--at: %v", err)
	}
	out := &loaded{}
	switch {
	case in.Live:
		cfg, err := awsConfig(ctx, in.Profile)
		if err != nil {
			return nil, err
		}
		o := live.AccountOptions{Options: live.Options{PerUser: true}, IAMEndpoint: in.EndpointURL, STSEndpoint: in.EndpointURL, Now: in.Now}
		if out.Account, err = live.ReadAccount(ctx, cfg, o); err != nil {
			return nil, fmt.Errorf("read the IAM state: %w", err)
		}
	case hasFiles:
		input, err := files.Load()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, usageErrorf("", "%v", err)
			}
			return nil, err
		}
		out.Account = iamstate.Build(input)
	}
	if in.Ingest != nil {
		if err := runIngest(ctx, in.Ingest); err != nil {
			return nil, fmt.Errorf("ingest --logs: %w", err)
		}
	}
	// "Now" is the state's own time unless the user says: never the wall
	// clock when the input has a time of its own.
	switch {
	case !at.IsZero():
		out.At = at
	case out.Account != nil && !out.Account.CollectedAt.IsZero():
		out.At = out.Account.CollectedAt
	default:
		out.At = in.Now().UTC()
	}
	accounts := in.Accounts
	if len(accounts) == 0 && out.Account != nil && out.Account.ID != "" {
		accounts = []string{out.Account.ID}
	}
	if st, err := openStoreForRead(ctx, in.Store); err == nil {
		reader, err := in.Engine.reader(ctx, in.Store, st, in.Stderr)
		if err != nil {
			return nil, err
		}
		out.Usage = &review.RollupUsage{Store: st, Notice: rollupNotice(in.Stderr), Reader: reader}
		q := review.Query{Accounts: accounts}
		if out.Account != nil && out.Account.Read.AuthorizationDetails {
			// The unused permissions: the window's calls, mapped as
			// analyze and diff map them.
			cat, err := catalog.Load()
			if err != nil {
				return nil, fmt.Errorf("load the IAM catalogue: %w", err)
			}
			q.Mapper, q.From, q.To = actionmap.New(cat), out.At.Add(-in.Rules.Window), out.At
		}
		if out.Activity, err = out.Usage.Activity(ctx, q); err != nil {
			return nil, fmt.Errorf("read the dataset: %w", err)
		}
	} else if !errors.Is(err, store.ErrEmpty) {
		return nil, err
	}
	if out.Account == nil && out.Activity == nil {
		return nil, usageErrorf("e.g. iamlens review --snapshot snapshot.json, or --credential-report report.csv --gaad gaad.json, or --live; add --logs DIR for usage",
			"nothing to review: no IAM state given and no events in the dataset at %s", in.Store)
	}
	switch {
	case !at.IsZero() || out.Account != nil && !out.Account.CollectedAt.IsZero():
	case out.Account == nil && out.Activity != nil && !out.Activity.To.IsZero():
		out.At = out.Activity.To
		fmt.Fprintf(in.Stderr, "iamlens: no IAM state: judging at the dataset's last event, %s (pass --at to change it)\n", out.At.Format(time.RFC3339))
	default:
		fmt.Fprintf(in.Stderr, "iamlens: the inputs do not say when the IAM state was read: judging at %s (pass --at to fix it)\n", out.At.Format(time.RFC3339))
	}
	return out, nil
}

func awsConfig(ctx context.Context, profile string) (aws.Config, error) {
	var lo []func(*config.LoadOptions) error
	if profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		return cfg, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

type reviewOptions struct {
	reviewInputs
	Format string
	Out    string
	FailOn string
	Stdout io.Writer
}

func newReviewCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &reviewOptions{}
	cmd := &cobra.Command{
		Use:   "review",
		Short: "The periodic IAM review: unused keys, passwords, users and roles, failing and periodic keys, owner clues",
		Long: `Review the account's users, access keys, passwords and roles: what is no longer
used, what only fails, what is used rarely but regularly, and who owns each.

It reads the account's IAM state (a snapshot from 'iamlens collect', or a
credential report and/or get-account-authorization-details output, or --live)
and the dataset under --store (all of it, once). Every finding carries its
evidence (dates, counts) and owner clues (source IPs and networks, user agents
and the tools they name, VPC endpoints, who created it, tags, the last
human-looking caller that touched it).

Findings: never-used-key, unused-key, unused-password, unused-user,
unused-role (service-linked and Identity Center roles labelled, informational),
stale-key, failing-only-key and failing-only-principal (every call in the
last --failing-window failed: "last used" lies), periodic-key and
periodic-principal (informational: never called unused because the last use
is older than the window). A key's use includes denied calls, as IAM's
last-used date does. The rules and their defaults: docs/review.md.

"Now" is when the state was read (the snapshot's or report's time), never the
wall clock when the input has a time; --at overrides it.
Exit code 3 when a finding at or above --fail-on exists.`,
		Example: `  # the bundled sample's logs alone
  iamlens review --logs testdata/sample

  # a purpose-built snapshot (what 'iamlens collect' writes), as markdown
  iamlens review --snapshot testdata/cis/fail/snapshot.json --format markdown

  # templates: your own account's files, logs and profile
  iamlens review --credential-report report.csv --gaad gaad.json --logs ./AWSLogs --format html --out review.html
  iamlens review --live --profile audit --format json > review.json
  iamlens review --snapshot snapshot.json --window 120d --fail-on high`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store, o.Profile, o.Now, o.Stdout, o.Stderr = g.Store, g.Profile, env.Now, env.Stdout, env.Stderr
			o.Ingest = reviewIngest(&o.reviewInputs, g, env)
			return runReview(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	addReviewFlags(f, &o.reviewInputs)
	f.StringVar(&o.Format, "format", "table", "output: "+strings.Join(review.Formats, ", "))
	f.StringVar(&o.Out, "out", "", "write the report to this file (mode 0600) instead of stdout")
	f.StringVar(&o.FailOn, "fail-on", "", "exit 3 when a finding of this severity or higher exists: low, medium or high")
	return cmd
}

// reviewIngest is the ingest of --logs, quiet.
func reviewIngest(in *reviewInputs, g *globalOptions, env *cmdEnv) *ingestOptions {
	if len(in.Logs) == 0 {
		return nil
	}
	o := ingestDefaults()
	o.Sources, o.Store, o.Profile, o.Accounts = in.Logs, g.Store, g.Profile, in.Accounts
	o.Format, o.Now, o.Stdout, o.Stderr = "json", env.Now, io.Discard, env.Stderr
	return &o
}

func runReview(ctx context.Context, o *reviewOptions) error {
	if !slices.Contains(review.Formats, o.Format) {
		return usageErrorf("", "--format must be one of %s, not %q", strings.Join(review.Formats, ", "), o.Format)
	}
	if o.FailOn != "" && (review.SeverityRank(o.FailOn) < 1) {
		return usageErrorf("", "--fail-on must be low, medium or high, not %q", o.FailOn)
	}
	in, err := o.load(ctx)
	if err != nil {
		return err
	}
	rep, err := review.Review(ctx, review.Options{Rules: o.Rules, At: in.At, Account: in.Account, Activity: in.Activity})
	if err != nil {
		return err
	}
	err = writeOutput(o.Out, o.Stdout, func(w io.Writer) error {
		if o.Format == "json" {
			plan, err := keyplan.Build(rep, keyplan.Options{Now: in.At})
			if err != nil {
				return err
			}
			return keyplan.WriteReviewJSON(w, rep, plan)
		}
		return review.Render(w, rep, o.Format)
	})
	if err != nil {
		return err
	}
	if o.Out != "" {
		fmt.Fprintf(o.Stderr, "wrote %s: %s\n", o.Out, rep.Headline())
	}
	if o.FailOn != "" {
		if n := rep.AtOrAbove(o.FailOn); n > 0 {
			return &findingsError{msg: fmt.Sprintf("review: %d findings at or above %s", n, o.FailOn)}
		}
	}
	return nil
}

// writeOutput writes to path (created 0600, replaced atomically) or to
// stdout when path is "" or "-". Reports name users, keys and addresses:
// they are not for everyone to read.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
