package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/policygen"
)

type analyzeOptions struct {
	Store           string
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
	// GAAD and Snapshot give the account's IAM state, for the paths of
	// users and roles the logs name by name only.
	GAAD, Snapshot string
	Ingest         *ingestOptions
	Stdout, Stderr io.Writer
}

var analyzeFormats = []string{"policy", "terraform", "cloudformation", "json", "table"}

func newAnalyzeCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &analyzeOptions{}
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
With --logs, the logs are ingested into the store first.`,
		Example: `  iamlens analyze --principal arn:aws:iam::123456789012:role/deploy
  iamlens analyze --principal deploy --format terraform > deploy.tf
  iamlens analyze --principal 'ci-*' --resources exact --condition-region --format json
  iamlens analyze --logs ./AWSLogs --principal bert-jan --format table
  iamlens analyze --principal deploy --gaad authorization-details.json   # IAM paths from the account
  iamlens analyze --all --from 2026-08-01 --to 2026-10-31 --format cloudformation`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store = g.Store
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			if len(o.Logs) > 0 {
				in := ingestDefaults()
				in.Sources, in.Store, in.Profile, in.Accounts = o.Logs, g.Store, g.Profile, o.Accounts
				in.Format, in.Now, in.Stdout, in.Stderr = "json", env.Now, io.Discard, env.Stderr
				o.Ingest = &in
			}
			return runAnalyze(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	f.StringSliceVar(&o.Principals, "principal", nil, "principal ARN, user or role name, or glob (repeatable, comma-separated)")
	f.BoolVar(&o.All, "all", false, "every user and role in the window")
	f.StringSliceVar(&o.Accounts, "account", nil, "only calls into these accounts")
	f.StringVar(&o.From, "from", "", "first day, YYYY-MM-DD or RFC 3339 (default: 90 days before the last day in the dataset)")
	f.StringVar(&o.To, "to", "", "last day, YYYY-MM-DD (inclusive) or RFC 3339")
	f.StringSliceVar(&o.Logs, "logs", nil, "ingest these folders or s3:// prefixes into --store first")
	f.StringVar(&o.Format, "format", "policy", "output: "+strings.Join(analyzeFormats, ", "))
	f.StringVar(&o.Resources, "resources", policygen.ResourcesPrefix, "resource generalisation: exact, prefix or service")
	f.BoolVar(&o.ConditionRegion, "condition-region", false, "add aws:RequestedRegion with the regions used")
	f.StringVar(&o.ConditionSource, "condition-source", "", "add aws:SourceVpce (vpce) or aws:SourceIp (ip) from where calls came from")
	f.BoolVar(&o.ConditionMFA, "condition-mfa", false, "add aws:MultiFactorAuthPresent when every call used MFA")
	f.StringVar(&o.Size, "size", policygen.SizeSplit, "over the 6,144-character limit: split (several policies) or compact (service-level resources, then split)")
	f.IntVar(&o.MaxResources, "max-resources", 20, "ARNs per statement before collapsing or splitting")
	f.BoolVar(&o.Stats, "stats", false, "print what was read (files, row groups, rows) to stderr")
	f.StringVar(&o.GAAD, "gaad", "", "the account's IAM state: 'aws iam get-account-authorization-details' output (or AirIAM's iam_data.json)")
	f.StringVar(&o.Snapshot, "snapshot", "", "the account's IAM state: a snapshot written by 'iamlens collect'")
	return cmd
}

func runAnalyze(ctx context.Context, o *analyzeOptions) error {
	if os.Getenv("GOGC") == "" {
		// A short-lived reader: trading heap for fewer collections makes a
		// one-principal run about 15% faster (bench/compare.sh analyze) for
		// ~90 MiB more peak RSS.
		debug.SetGCPercent(400)
	}
	if !slices.Contains(analyzeFormats, o.Format) {
		return usageErrorf("", "--format must be one of %s, not %q", strings.Join(analyzeFormats, ", "), o.Format)
	}
	if o.All == (len(o.Principals) > 0) {
		return usageErrorf("Run 'iamlens principals' to see who is in the dataset.", "give --principal or --all (not both)")
	}
	gopts := policygen.Options{Resources: o.Resources, ConditionRegion: o.ConditionRegion,
		ConditionSource: o.ConditionSource, ConditionMFA: o.ConditionMFA, Size: o.Size, MaxResources: o.MaxResources}
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
	if o.Ingest != nil {
		if err := runIngest(ctx, o.Ingest); err != nil {
			return fmt.Errorf("ingest --logs: %w", err)
		}
	}
	st, err := openStoreForRead(o.Store)
	if err != nil {
		return err
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
	q := analyzer.Query{Principals: o.Principals, All: o.All, Accounts: o.Accounts, From: from, To: to}
	start := time.Now()
	usages, stats, err := analyzer.Analyze(ctx, st, q, m, analyzer.Options{Paths: paths})
	if <-loaded; catErr != nil {
		return fmt.Errorf("load the IAM catalogue: %w", catErr)
	}
	var nf *analyzer.NotFoundError
	if errors.As(err, &nf) {
		hint := "Run 'iamlens principals' to list who is in the dataset."
		if len(nf.Close) > 0 {
			hint = "Did you mean:\n  " + strings.Join(nf.Close, "\n  ")
		}
		return usageErrorf(hint, "%v", err)
	}
	if err != nil {
		return err
	}
	if len(usages) == 0 {
		return fmt.Errorf("no principal to analyse between %s and %s", stats.From.Format(time.DateOnly), analyzeEnd(stats.To))
	}
	results := make([]*policygen.Result, 0, len(usages))
	for _, u := range usages {
		r, err := policygen.Generate(u, cat, gopts)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	if o.Stats {
		fmt.Fprintf(o.Stderr, "analyze: %d principal(s), window %s to %s; %d of %d row groups in %d file(s) kept, %d rows decoded; %d distinct calls; IAM paths: %d known, %d principal index(es) read; %s\n",
			stats.Principals, stats.From.Format(time.DateOnly), analyzeEnd(stats.To), stats.RowGroupsRead, stats.RowGroups, stats.Files,
			stats.RowsRead, stats.DistinctCalls, paths.Len(), stats.PathIndexes, time.Since(start).Round(time.Millisecond))
	}
	for _, r := range results {
		if len(r.Policies) > 1 && o.Format != "json" && o.Format != "table" {
			fmt.Fprintf(o.Stderr, "iamlens: %s: %s\n", r.Principal, r.SizeNote)
		}
	}
	switch o.Format {
	case "terraform":
		return policygen.WriteTerraform(o.Stdout, results)
	case "cloudformation":
		return policygen.WriteCloudFormation(o.Stdout, results)
	case "json":
		return policygen.WriteReport(o.Stdout, results)
	case "table":
		return policygen.WriteTable(o.Stdout, results)
	default:
		return policygen.WritePolicy(o.Stdout, results)
	}
}

func analyzeEnd(t time.Time) string {
	if t.IsZero() {
		return "the end of the dataset"
	}
	return t.Format(time.DateOnly)
}
