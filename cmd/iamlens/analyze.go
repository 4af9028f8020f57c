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
	ExcludeFailed   bool
	Ingest          *ingestOptions
	Stdout, Stderr  io.Writer
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
report says which. Calls that passed authorisation and then failed for another
reason (NoSuchKey, NoSuchBucketPolicy, ResourceNotFoundException, throttling)
were authorised: they are granted and marked in the evidence (--exclude-failed
leaves them out). Denied calls are not granted: they are listed as "needed but
not granted". Actions CloudTrail cannot show (iam:PassRole, data events the
trail does not record) are listed as not observable.

--principal takes a full ARN, a user or role name, or a glob over either
(repeatable). The window defaults to the last 90 days present in the dataset.
With --logs, the logs are ingested into the store first.`,
		Example: `  iamlens analyze --principal arn:aws:iam::123456789012:role/deploy
  iamlens analyze --principal deploy --format terraform > deploy.tf
  iamlens analyze --principal 'ci-*' --resources exact --condition-region --format json
  iamlens analyze --logs ./AWSLogs --principal bert-jan --format table
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
	f.BoolVar(&o.ExcludeFailed, "exclude-failed", false, "leave out calls that were authorised and then failed (NoSuchKey, throttling)")
	return cmd
}

func runAnalyze(ctx context.Context, o *analyzeOptions) error {
	if !slices.Contains(analyzeFormats, o.Format) {
		return usageErrorf("", "--format must be one of %s, not %q", strings.Join(analyzeFormats, ", "), o.Format)
	}
	if o.All == (len(o.Principals) > 0) {
		return usageErrorf("Run 'iamlens principals' to see who is in the dataset.", "give --principal or --all (not both)")
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
	q := analyzer.Query{Principals: o.Principals, All: o.All, Accounts: o.Accounts, From: from, To: to}
	rd, err := readUsages(ctx, o.Store, o.Ingest, q)
	if err != nil {
		return err
	}
	usages, stats, cat, start := rd.Usages, rd.Stats, rd.Catalog, rd.Start
	results := make([]*policygen.Result, 0, len(usages))
	for _, u := range usages {
		r, err := policygen.Generate(u, cat, gopts)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	if o.Stats {
		fmt.Fprintf(o.Stderr, "analyze: %d principal(s), window %s to %s; %d of %d row groups in %d file(s) kept, %d rows decoded; %d distinct calls; %s\n",
			stats.Principals, stats.From.Format(time.DateOnly), analyzeEnd(stats.To), stats.RowGroupsRead, stats.RowGroups, stats.Files,
			stats.RowsRead, stats.DistinctCalls, time.Since(start).Round(time.Millisecond))
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
// catalogue loading meanwhile. A principal the dataset does not have is a
// usage error with the close names; an empty window an error.
func readUsages(ctx context.Context, storeDir string, in *ingestOptions, q analyzer.Query) (*usageRead, error) {
	if os.Getenv("GOGC") == "" {
		// A short-lived reader: trading heap for fewer collections makes a
		// one-principal run about 15% faster (bench/compare.sh analyze) for
		// ~90 MiB more peak RSS.
		debug.SetGCPercent(400)
	}
	if in != nil {
		if err := runIngest(ctx, in); err != nil {
			return nil, fmt.Errorf("ingest --logs: %w", err)
		}
	}
	st, err := openStoreForRead(storeDir)
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
			mapper = actionmap.New(cat)
		}
	}()
	m := analyzer.MapperFunc(func(c *actionmap.Call) actionmap.Result {
		if <-loaded; mapper != nil {
			return mapper.Map(c)
		}
		return actionmap.Result{}
	})
	start := time.Now()
	usages, stats, err := analyzer.Analyze(ctx, st, q, m, analyzer.Options{})
	if <-loaded; catErr != nil {
		return nil, fmt.Errorf("load the IAM catalogue: %w", catErr)
	}
	var nf *analyzer.NotFoundError
	if errors.As(err, &nf) {
		hint := "Run 'iamlens principals' to list who is in the dataset."
		if len(nf.Close) > 0 {
			hint = "Did you mean:\n  " + strings.Join(nf.Close, "\n  ")
		}
		return nil, usageErrorf(hint, "%v", err)
	}
	if err != nil {
		return nil, err
	}
	if len(usages) == 0 {
		return nil, fmt.Errorf("no principal to analyse between %s and %s", stats.From.Format(time.DateOnly), analyzeEnd(stats.To))
	}
	return &usageRead{Usages: usages, Stats: stats, Catalog: cat, Start: start}, nil
}
