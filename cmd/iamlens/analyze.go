package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/ingest/store"
	"github.com/iamlens/iamlens/policygen"
)

type analyzeOptions struct {
	Store           string
	Engine          engineOptions
	Principals      []string
	All             bool
	Accounts        []string
	From, To        string
	Logs            []string
	Format          string
	Resources       string
	ConditionRegion bool
	ConditionSource string
	ConditionMFA    bool
	Size            string
	MaxResources    int
	Stats           bool
	ExcludeFailed   bool
	// GAAD and Snapshot give the account's IAM state, for the paths of
	// users and roles the logs name by name only.
	GAAD, Snapshot string
	// Ingest, when set, ingests Logs into Store first.
	Ingest *ingestOptions
	// Width is the terminal's width for --format table (0: no limit).
	Width          int
	Stdout, Stderr io.Writer
}

var analyzeFormats = []string{"policy", "terraform", "cloudformation", "json", "table"}

func newAnalyzeCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &analyzeOptions{}
	in := ingestDefaults()
	cmd := &cobra.Command{
		Use:   "analyze --principal ARN|NAME|GLOB... | --all",
		Short: "Write the least-privilege IAM policy of a principal, with the evidence behind every line",
		Long: `Read the dataset under --store for the principal's calls in the window (only the
partitions, row groups and columns that matter) and write the tightest IAM
policy that still allows every call it made successfully.

Every action is checked against the IAM catalogue and every resource against
the action's resource types; "*" is written only where the action allows no
resource-level restriction or the log does not reveal the resource, and the
report says which. Denied calls are not granted: they are listed as "needed but
not granted". Actions CloudTrail cannot show (iam:PassRole, data events the
trail does not record) are listed as not observable.

A call AWS authorises against several resources is granted on each of them:
RunInstances on its image, subnet, security groups and key pair by ARN, and on
the instance, volumes and network interfaces it creates by type in its region
and account. An IAM user or role the logs name without its path is written
with the path the dataset or the account state (--gaad or --snapshot) shows,
else both at the root and under any path, and the report says so.

--principal takes a full ARN, a user or role name, or a glob over either
(repeatable). The window defaults to the last 90 days present in the dataset.
With --logs, the logs (folders, files or s3:// prefixes) are ingested into the
store first, with ingest's progress and summary on stderr.

Output: --format policy writes one JSON object keyed by principal ARN, each
value an array of policy documents (several when a policy is split); json
writes an array of reports, one per principal. A principal with nothing to
grant is left out of policy, terraform and cloudformation (said on stderr);
what is left out of a policy (denied and failed calls, conditions that could
not be added, a split) is said on stderr in every format.`,
		Example: `  # the bundled sample: ingest it, then the policy of the IAM user benjamin
  iamlens analyze --logs testdata/sample --principal benjamin --format table

  # from the dataset already ingested: by name, as Terraform or JSON
  iamlens analyze --principal benjamin --format terraform > benjamin.tf
  iamlens analyze --principal 'stratus-*' --resources exact --condition-region --format json

  # every user and role in a window, as one CloudFormation stack
  iamlens analyze --all --from 2023-07-01 --to 2023-07-31 --format cloudformation

  # a role by ARN, with IAM paths from the account's authorization details (templates)
  iamlens analyze --principal arn:aws:iam::123456789012:role/deploy
  iamlens analyze --principal arn:aws:iam::123456789012:role/deploy --gaad authorization-details.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store = g.Store
			o.Stdout, o.Stderr, o.Width = env.Stdout, env.Stderr, env.Width
			if len(o.Logs) > 0 {
				in.Sources, in.Store, in.Profile, in.Accounts = o.Logs, g.Store, g.Profile, o.Accounts
				in.Format, in.Now, in.Stdout, in.Stderr = "table", env.Now, env.Stderr, env.Stderr
				in.Progress = env.Interactive && !g.NoProgress
				o.Ingest = &in
			} else if f := changedOf(cmd, s3FlagNames...); f != "" {
				return usageErrorf("", "--%s applies to --logs", f)
			}
			return runAnalyze(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	engineFlags(f, &o.Engine)
	addS3Flags(f, &in)
	f.StringSliceVar(&o.Principals, "principal", nil, "principal ARN, user or role name, or glob (repeatable, comma-separated)")
	f.BoolVar(&o.All, "all", false, "every user and role in the window")
	f.StringSliceVar(&o.Accounts, "account", nil, "only calls into these accounts")
	f.StringVar(&o.From, "from", "", "first day, YYYY-MM-DD or RFC 3339 (default: 90 days before the last day in the dataset)")
	f.StringVar(&o.To, "to", "", "last day, YYYY-MM-DD (inclusive) or RFC 3339")
	f.StringSliceVar(&o.Logs, "logs", nil, "ingest these folders, files or s3:// prefixes into --store first")
	f.StringVar(&o.Format, "format", "policy", "output: "+strings.Join(analyzeFormats, ", "))
	f.StringVar(&o.Resources, "resources", policygen.ResourcesPrefix, "resource generalisation: exact, prefix or service")
	f.BoolVar(&o.ConditionRegion, "condition-region", false, "add aws:RequestedRegion with the regions used")
	f.StringVar(&o.ConditionSource, "condition-source", "", "add aws:SourceVpce (vpce) or aws:SourceIp (ip) from where calls came from")
	f.BoolVar(&o.ConditionMFA, "condition-mfa", false, "add aws:MultiFactorAuthPresent when every call used MFA")
	f.StringVar(&o.Size, "size", policygen.SizeSplit, "over the 6,144-character limit: split (several policies) or compact (service-level resources, then split)")
	f.IntVar(&o.MaxResources, "max-resources", 20, "ARNs per statement before collapsing or splitting")
	f.BoolVar(&o.Stats, "stats", false, "print what was read (files, row groups, rows) to stderr")
	f.BoolVar(&o.ExcludeFailed, "exclude-failed", false, "leave out calls that were authorised and then failed (NoSuchKey, throttling)")
	f.StringVar(&o.GAAD, "gaad", "", "the account's IAM state: 'aws iam get-account-authorization-details' output (or AirIAM's iam_data.json)")
	f.StringVar(&o.Snapshot, "snapshot", "", "the account's IAM state: a snapshot written by 'iamlens collect'")
	completeValues(cmd, "format", analyzeFormats...)
	completeValues(cmd, "resources", policygen.ResourcesExact, policygen.ResourcesPrefix, policygen.ResourcesService)
	completeValues(cmd, "condition-source", policygen.SourceVPCE, policygen.SourceIP)
	completeValues(cmd, "size", policygen.SizeSplit, policygen.SizeCompact)
	completePrincipals(cmd)
	completeAccounts(cmd)
	return cmd
}

func runAnalyze(ctx context.Context, o *analyzeOptions) error {
	if !slices.Contains(analyzeFormats, o.Format) {
		return usageErrorf("", "--format must be one of %s, not %q", strings.Join(analyzeFormats, ", "), o.Format)
	}
	if o.MaxResources < 1 {
		return usageErrorf("", "--max-resources must be at least 1, not %d", o.MaxResources)
	}
	if o.All == (len(o.Principals) > 0) {
		return usageErrorf("Run 'iamlens principals' to see who is in the dataset.", "give --principal or --all (not both)")
	}
	if !o.All {
		lightGC()
	}
	gopts := policygen.Options{Resources: o.Resources, ConditionRegion: o.ConditionRegion,
		ConditionSource: o.ConditionSource, ConditionMFA: o.ConditionMFA, Size: o.Size, MaxResources: o.MaxResources,
		ExcludeFailed: o.ExcludeFailed}
	if err := gopts.Validate(); err != nil {
		return usageErrorf("", "%v", err)
	}
	from, to, err := parseRange(o.From, o.To)
	if err != nil {
		return err
	}
	// IAM paths: from the account state when given, then from the dataset
	// (Analyze adds what it reads before it maps).
	paths := actionmap.NewPaths()
	if o.GAAD != "" || o.Snapshot != "" {
		in, err := iamstate.Files{Snapshot: o.Snapshot, GAAD: o.GAAD}.Load()
		if err != nil {
			flag := "--gaad"
			if o.Snapshot != "" {
				flag = "--snapshot"
			}
			return usageErrorf("", "%s: %v", flag, err)
		}
		analyzer.StatePaths(iamstate.Build(in), paths)
	}
	q := analyzer.Query{Principals: o.Principals, All: o.All, Accounts: o.Accounts, From: from, To: to}
	rd, err := readUsages(ctx, readOptions{Store: o.Store, Engine: o.Engine, Ingest: o.Ingest, Query: q, Paths: paths, FromFlag: o.From, Stderr: o.Stderr})
	if err != nil {
		return err
	}
	usages, stats, cat, start := rd.Usages, rd.Stats, rd.Catalog, rd.Start
	results, err := generateAll(usages, cat, gopts)
	if err != nil {
		return err
	}
	if o.Stats {
		fmt.Fprintf(o.Stderr, "analyze: %d principal(s), window %s to %s; %d of %d row groups in %d file(s) kept, %d rows decoded (%d of the usage rollup in %d file(s)); %d distinct calls; IAM paths: %d known, %d principal index(es) read; %s\n",
			stats.Principals, stats.From.Format(time.DateOnly), analyzeEnd(stats.To), stats.RowGroupsRead, stats.RowGroups, stats.Files,
			stats.RowsRead, stats.RollupRowsRead, stats.RollupFiles, stats.DistinctCalls, paths.Len(), stats.PathIndexes, time.Since(start).Round(time.Millisecond))
	}
	writeAnalyzeNotes(o.Stderr, results, gopts)
	if o.Format == "policy" || o.Format == "terraform" || o.Format == "cloudformation" {
		kept := results[:0:0]
		for _, r := range results {
			if len(r.Policies) == 0 {
				fmt.Fprintf(o.Stderr, "iamlens: left out %s: %s\n", r.Principal, r.SizeNote)
				continue
			}
			kept = append(kept, r)
		}
		if len(kept) == 0 {
			return fmt.Errorf("no policy to write: %s; --format table shows what %s did",
				policygen.NothingToGrant, map[bool]string{true: "the principal", false: "they"}[len(results) == 1])
		}
		results = kept
	}
	switch o.Format {
	case "terraform":
		return policygen.WriteTerraform(o.Stdout, results)
	case "cloudformation":
		return policygen.WriteCloudFormation(o.Stdout, results)
	case "json":
		return policygen.WriteReport(o.Stdout, results)
	case "table":
		return policygen.WriteTableWidth(o.Stdout, results, o.Width)
	default:
		return policygen.WritePolicy(o.Stdout, results)
	}
}

// generateAll builds each usage's policy, on every core for --all.
func generateAll(usages []*analyzer.Usage, cat *catalog.Catalog, gopts policygen.Options) ([]*policygen.Result, error) {
	results := make([]*policygen.Result, len(usages))
	var g errgroup.Group
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, u := range usages {
		g.Go(func() (err error) {
			results[i], err = policygen.Generate(u, cat, gopts)
			return err
		})
	}
	return results, g.Wait()
}

func analyzeEnd(t time.Time) string {
	if t.IsZero() {
		return "the end of the dataset"
	}
	return t.Format(time.DateOnly)
}

// windowNote says, after a message about the window, that it was the
// default one.
func windowNote(from string) string {
	if from != "" {
		return ""
	}
	return fmt.Sprintf(" (by default, the last %d days of the dataset)", int(analyzer.DefaultWindow.Hours()/24))
}

// outsideWindowHint tells how to widen the window when the principal (or,
// for nf nil, anyone) has events outside it.
func outsideWindowHint(st *store.Store, nf *analyzer.NotFoundError, accounts []string) string {
	first, ferr := analyzer.FirstDay(st, accounts)
	last, lerr := analyzer.LastDay(st, accounts)
	if ferr != nil || lerr != nil || first.IsZero() {
		return "Run 'iamlens principals' to list who is in the dataset."
	}
	span := fmt.Sprintf("the dataset holds events from %s to %s", first.Format(time.DateOnly), last.Format(time.DateOnly))
	try := fmt.Sprintf("try --from %s --to %s", first.Format(time.DateOnly), last.Format(time.DateOnly))
	if nf == nil {
		return "Widen the window: " + span + "; " + try + "."
	}
	if len(nf.Elsewhere) == 0 {
		return "Run 'iamlens principals' to list who is in the dataset (" + span + ")."
	}
	return fmt.Sprintf("%s has events outside that window (%s): %s.", strings.Join(nf.Elsewhere, ", "), span, try)
}

// writeAnalyzeNotes says on stderr, whatever the format, what each policy
// leaves out or could not do: conditions asked for but not added, a split
// (and a --size compact that did not avoid it), and the calls that are not
// granted.
func writeAnalyzeNotes(w io.Writer, results []*policygen.Result, gopts policygen.Options) {
	for _, r := range results {
		for _, c := range r.ConditionsSkipped {
			fmt.Fprintf(w, "iamlens: %s: condition %s not added: %s\n", r.Principal, c.Key, c.Why)
		}
		if len(r.Policies) > 1 {
			if gopts.Size == policygen.SizeCompact {
				fmt.Fprintf(w, "iamlens: %s: --size compact was not enough; %s\n", r.Principal, r.SizeNote)
			} else {
				fmt.Fprintf(w, "iamlens: %s: %s (--size compact tries service-level resources first)\n", r.Principal, r.SizeNote)
			}
		}
		u := r.Usage
		var parts []string
		if n := calls(u.Denied); n > 0 {
			parts = append(parts, plural(n, "denied call"))
		}
		if n := calls(u.Failed); n > 0 && r.FailedExcluded {
			parts = append(parts, plural(n, "failed call"))
		}
		var unmapped int64
		for _, c := range u.Unmapped {
			unmapped += c.Calls
		}
		if unmapped > 0 {
			parts = append(parts, plural(int(unmapped), "unmapped call"))
		}
		if len(parts) > 0 {
			fmt.Fprintf(w, "iamlens: %s: not in the policy: %s (--format table lists them)\n", r.Principal, strings.Join(parts, ", "))
		}
	}
}

func calls(as []*analyzer.ActionUsage) int {
	var n int64
	for _, a := range as {
		n += a.Calls
	}
	return int(n)
}

// readOptions say what readUsages reads.
type readOptions struct {
	Store string
	// Engine is where the aggregation runs.
	Engine engineOptions
	// Ingest, when set, ingests --logs into Store first.
	Ingest *ingestOptions
	Query  analyzer.Query
	// Paths are the IAM paths known from an account state; the dataset's
	// are added while it is read.
	Paths *actionmap.Paths
	// FromFlag is --from as given ("" for the default window), for hints.
	FromFlag string
	// Stderr receives what the read has to say besides its result.
	Stderr io.Writer
}

// usageRead is what a command reads from the dataset: one Usage per
// principal, with the catalogue that mapped it.
type usageRead struct {
	Usages  []*analyzer.Usage
	Stats   analyzer.Stats
	Catalog *catalog.Catalog
	Start   time.Time
}

// readUsages is the one read path of analyze and diff: ingest --logs
// first when asked, then analyzer.Analyze over the store with the
// catalogue loading meanwhile. A principal the dataset does not have, and
// a window without anyone, are usage errors with hints.
func readUsages(ctx context.Context, o readOptions) (*usageRead, error) {
	if err := o.Engine.validate(o.Store); err != nil {
		return nil, err
	}
	if os.Getenv("GOGC") == "" {
		// A short-lived reader: trading heap for fewer collections makes a
		// one-principal run about 15% faster (bench/compare.sh analyze) for
		// ~90 MiB more peak RSS.
		debug.SetGCPercent(400)
	}
	paths := o.Paths
	if paths == nil {
		paths = actionmap.NewPaths()
	}
	if o.Ingest != nil {
		if err := runIngest(ctx, o.Ingest); err != nil {
			var ue *usageError
			var fe *findingsError
			if errors.As(err, &ue) || errors.As(err, &fe) {
				return nil, err
			}
			return nil, fmt.Errorf("--logs: %w", err)
		}
	}
	st, err := openStoreForRead(ctx, o.Store)
	if err != nil {
		return nil, err
	}
	// The catalogue loads (~40 ms) while the dataset is read; the mapper
	// first needs it once every row is in. Closing loaded publishes cat,
	// mapper and catErr to every reader.
	var (
		cat    *catalog.Catalog
		mapper *actionmap.Mapper
		catErr error
	)
	loaded := make(chan struct{})
	go func() {
		defer close(loaded)
		if cat, catErr = catalog.Load(); catErr == nil {
			mapper = actionmap.New(cat).WithPaths(paths)
		}
	}()
	m := analyzer.MapperFunc(func(c *actionmap.Call) actionmap.Result {
		if <-loaded; mapper != nil {
			return mapper.Map(c)
		}
		return actionmap.Result{}
	})
	start := time.Now()
	reader, err := o.Engine.reader(ctx, o.Store, st, o.Stderr)
	if err != nil {
		return nil, err
	}
	usages, stats, err := analyzer.Analyze(ctx, st, o.Query, m, analyzer.Options{Paths: paths, Notice: rollupNotice(o.Stderr), Reader: reader})
	if <-loaded; catErr != nil {
		return nil, fmt.Errorf("load the IAM catalogue: %w", catErr)
	}
	var nf *analyzer.NotFoundError
	var ae *analyzer.AccountError
	switch {
	case errors.As(err, &nf):
		return nil, notFoundUsage(nf, nf.Error()+windowNote(o.FromFlag), outsideWindowHint(st, nf, o.Query.Accounts))
	case errors.As(err, &ae):
		return nil, usageErrorf("Run 'iamlens principals' to see who called into which account.", "%v", ae)
	case err != nil:
		return nil, err
	}
	if len(usages) == 0 {
		return nil, usageErrorf(outsideWindowHint(st, nil, o.Query.Accounts), "no user or role to analyse from %s to %s%s",
			stats.From.Format(time.DateOnly), analyzeEnd(stats.To), windowNote(o.FromFlag))
	}
	return &usageRead{Usages: usages, Stats: stats, Catalog: cat, Start: start}, nil
}
