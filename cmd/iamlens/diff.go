package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iampolicy/managed"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/analyzer/iamstate/live"
	"github.com/iamlens/iamlens/analyzer/iamstate/tfplan"
	"github.com/iamlens/iamlens/policygen"
	"github.com/iamlens/iamlens/policygen/policydiff"
)

type diffOptions struct {
	Store         string
	Engine        engineOptions
	Principals    []string
	All           bool
	Accounts      []string
	From, To      string
	Logs          []string
	Ingest        *ingestOptions
	Policies      []string
	Boundary      []string
	GAAD          []string
	Snapshot      []string
	TerraformPlan string
	Live          bool
	Profile       string
	EndpointURL   string
	Format        string
	FailOn        string
	MaxUnused     int
	ExcludeFailed bool
	Resources     string
	Stdout        io.Writer
	Stderr        io.Writer
}

func newDiffCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff (--principal ARN|NAME... | --all) SOURCE",
		Short: "Compare what principals are granted with what they used, as a pull-request review",
		Long: `Compare a principal's identity policies (inline, managed, its groups', within its permissions
boundary) with the calls the dataset holds for it in the window, and say:

  granted and used       each action with calls, first and last seen (calls that passed
                         authorisation and then failed, NoSuchKey or throttling, count as used)
  used but not granted   denied calls the policies do not grant (missing), and authorised calls
                         they do not grant (granted elsewhere: a resource or session policy)
  granted but unused     every catalogue action they allow and the window never saw, by service;
                         conditional when only a conditional Allow grants it
  not observable         what CloudTrail cannot show (iam:PassRole, data events the dataset
                         holds none of): never suggested for removal
  resource level         actions granted on wildcards and used on a few resources
  proposed policy        analyze's policy held to the current grants (it never allows more),
                         and a unified diff of the current documents against it

SOURCE, the current policies, is one of:
  --policy FILE...         policy documents (also get-policy-version and {"PolicyDocument":…}
                           shapes, or an AWS managed policy's ARN or name); one principal's set
  --gaad FILE              aws iam get-account-authorization-details output (repeat it, one
                           file per account, for a dataset of several accounts)
  --snapshot FILE          an 'iamlens collect' snapshot (repeatable, one per account)
  --terraform-plan FILE    terraform show -json PLAN: the policies the plan gives each principal
                           (AWS managed policies it names by ARN come from --gaad, --snapshot or
                           --live when given, else from iamlens's embedded copy)
  --live                   IAM itself, read-only, with the default credential chain

With --all, every principal found in both the source and the dataset. The window and --logs
work as in 'iamlens analyze'. --fail-on exits 3 when a principal has unused grants (more than
--max-unused), missing permissions, or either.`,
		Example: `  iamlens diff --logs testdata/sample --all --gaad examples/diff/sample-gaad.json
  iamlens diff --logs testdata/sample --principal stratus-red-team-ec2-enumerate-role \
      --terraform-plan examples/diff/sample-plan.json --format markdown
  iamlens diff --principal benjamin --policy examples/policies/app.json --format table
  iamlens diff --all --gaad examples/diff/sample-gaad.json --fail-on missing --format sarif > iamlens.sarif
  # templates: your account's IAM and your pull request's plan
  iamlens diff --all --live --format sarif > iamlens.sarif
  iamlens diff --all --terraform-plan plan.json --gaad gaad.json --fail-on any --max-unused 20 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store, o.Profile = g.Store, g.Profile
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			if len(o.Logs) > 0 {
				in := ingestDefaults()
				in.Sources, in.Store, in.Profile, in.Accounts = o.Logs, g.Store, g.Profile, o.Accounts
				in.Format, in.Now, in.Stdout, in.Stderr = "json", env.Now, io.Discard, env.Stderr
				o.Ingest = &in
			}
			return runDiff(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	engineFlags(f, &o.Engine)
	f.StringSliceVar(&o.Principals, "principal", nil, "principal ARN, user or role name, or glob (repeatable, comma-separated)")
	f.BoolVar(&o.All, "all", false, "every principal of both the source and the dataset")
	f.StringSliceVar(&o.Accounts, "account", nil, "only calls into these accounts")
	f.StringVar(&o.From, "from", "", "first day, YYYY-MM-DD or RFC 3339 (default: 90 days before the last day in the dataset)")
	f.StringVar(&o.To, "to", "", "last day, YYYY-MM-DD (inclusive) or RFC 3339")
	f.StringSliceVar(&o.Logs, "logs", nil, "ingest these folders or s3:// prefixes into --store first")
	f.StringArrayVar(&o.Policies, "policy", nil, "a policy file, or an AWS managed policy's ARN or name (repeatable)")
	f.StringArrayVar(&o.Boundary, "boundary", nil, "with --policy: the permissions boundary (repeatable)")
	f.StringArrayVar(&o.GAAD, "gaad", nil, "aws iam get-account-authorization-details output (repeatable: one per account)")
	f.StringArrayVar(&o.Snapshot, "snapshot", nil, "an 'iamlens collect' snapshot (repeatable: one per account)")
	f.StringVar(&o.TerraformPlan, "terraform-plan", "", "terraform show -json output of a plan")
	f.BoolVar(&o.Live, "live", false, "read IAM itself (read-only, the default credential chain)")
	f.StringVar(&o.EndpointURL, "endpoint-url", "", "live: send the IAM and STS calls to this endpoint, e.g. LocalStack")
	f.StringVar(&o.Format, "format", "table", "output: "+strings.Join(policydiff.Formats, ", "))
	f.StringVar(&o.FailOn, "fail-on", "", "exit 3 on findings: unused (more than --max-unused), missing, or any")
	f.IntVar(&o.MaxUnused, "max-unused", 0, "with --fail-on unused|any: the unused grants a principal may have")
	f.BoolVar(&o.ExcludeFailed, "exclude-failed", false, "calls authorised and then failed (NoSuchKey, throttling) do not count as used")
	f.StringVar(&o.Resources, "resources", policygen.ResourcesPrefix, "the proposal's resource generalisation: exact, prefix or service")
	return cmd
}

// diffSource is the current policies, whatever they come from.
type diffSource struct {
	info policydiff.Source
	// effective returns a principal's policies; notes and address come
	// from a Terraform plan. errNotInSource: the source has no such
	// principal.
	effective func(arn string) (e *iamstate.Effective, notes []string, address string, err error)
	// principals lists the source's users and roles, each with the key
	// its comparisons are matched by (sourceKey) and how reports name it.
	principals func() []sourcePrincipal
	// paths are the IAM paths of the account states read (nil: none),
	// for the principals the logs name by name only.
	paths *actionmap.Paths
}

var errNotInSource = errors.New("not in the source")

// sourcePrincipal is one user or role of a source: Key is its Terraform
// address, else its ARN (sourceKey gives the same for a comparison).
type sourcePrincipal struct{ Key, Name string }

// sourceKey is the key of the source principal a comparison matched.
func sourceKey(cur *iamstate.Effective, address string) string {
	if address != "" {
		return address
	}
	return cur.ARN
}

func runDiff(ctx context.Context, o *diffOptions) error {
	if !slices.Contains(policydiff.Formats, o.Format) {
		return usageErrorf("", "--format must be one of %s, not %q", strings.Join(policydiff.Formats, ", "), o.Format)
	}
	if o.All == (len(o.Principals) > 0) {
		return usageErrorf("Run 'iamlens principals' to see who is in the dataset.", "give --principal or --all (not both)")
	}
	switch o.FailOn {
	case "", "unused", "missing", "any":
	default:
		return usageErrorf("", "--fail-on must be unused, missing or any, not %q", o.FailOn)
	}
	if o.MaxUnused < 0 {
		return usageErrorf("", "--max-unused must not be negative")
	}
	sources := 0
	for _, set := range []bool{len(o.Policies) > 0, len(o.GAAD) > 0, len(o.Snapshot) > 0, o.Live} {
		if set {
			sources++
		}
	}
	switch {
	case o.TerraformPlan == "" && sources == 0:
		return usageErrorf("Give the current policies with --policy, --gaad, --snapshot, --terraform-plan or --live.", "no source of policies")
	case o.TerraformPlan == "" && sources > 1, o.TerraformPlan != "" && (sources > 1 || len(o.Policies) > 0):
		return usageErrorf("--terraform-plan may be joined by one of --gaad, --snapshot or --live (for the AWS managed policies it names); the others go alone.", "more than one source of policies")
	case len(o.Boundary) > 0 && len(o.Policies) == 0:
		return usageErrorf("", "--boundary goes with --policy")
	case len(o.Policies) > 0 && o.All:
		return usageErrorf("--policy files are one principal's policies: name the principal(s) with --principal.", "--policy and --all do not go together")
	}
	gopts := policygen.Options{Resources: o.Resources, ExcludeFailed: o.ExcludeFailed}
	if err := gopts.Validate(); err != nil {
		return usageErrorf("", "%v", err)
	}
	from, to, err := parseRange(o.From, o.To)
	if err != nil {
		return err
	}
	if err := o.Engine.validate(o.Store); err != nil {
		return err
	}
	src, err := loadDiffSource(ctx, o)
	if err != nil {
		return err
	}
	q := analyzer.Query{Principals: o.Principals, All: o.All, Accounts: o.Accounts, From: from, To: to}
	rd, err := readUsages(ctx, readOptions{Store: o.Store, Engine: o.Engine, Ingest: o.Ingest, Query: q, Paths: src.paths, FromFlag: o.From, Stderr: o.Stderr})
	if err != nil {
		return err
	}
	var inputs []policydiff.Input
	matched := map[string]bool{}
	var missing []string
	for _, u := range rd.Usages {
		cur, notes, addr, err := src.effective(u.Principal)
		switch {
		case errors.Is(err, errNotInSource):
			if !o.All {
				missing = append(missing, u.Principal)
			}
			continue
		case err != nil:
			return err
		}
		matched[sourceKey(cur, addr)] = true
		inputs = append(inputs, policydiff.Input{Usage: u, Current: cur, Notes: notes, Address: addr})
	}
	if len(missing) > 0 {
		return usageErrorf("Compare a principal that the source names; --all compares every principal of both.", "%s: %s", strings.Join(missing, ", "), "not in "+src.info.Name)
	}
	var sourceOnly []string
	if o.All {
		for _, p := range src.principals() {
			if !matched[p.Key] {
				sourceOnly = append(sourceOnly, p.Name)
			}
		}
	}
	rep, err := policydiff.Run(inputs, sourceOnly, policydiff.Options{Source: src.info, Catalog: rd.Catalog, Generate: gopts,
		DataSeen: policydiff.DataSeenIn(rd.Usages, rd.Catalog), Dataset: o.Store})
	if err != nil {
		return err
	}
	if o.All && len(rep.Principals) == 0 {
		fmt.Fprintf(o.Stderr, "iamlens: no principal is both in %s and in the dataset's window (%d principal(s) with events)\n", src.info.Name, len(rd.Usages))
	}
	if err := policydiff.Write(o.Stdout, rep, o.Format, policydiff.RenderOptions{Version: versionString()}); err != nil {
		return err
	}
	return diffFindings(rep, o.FailOn, o.MaxUnused)
}

// diffFindings is the --fail-on verdict.
func diffFindings(rep *policydiff.Report, failOn string, maxUnused int) error {
	if failOn == "" {
		return nil
	}
	var unused, missing []string
	for _, p := range rep.Principals {
		if (failOn == "unused" || failOn == "any") && p.Counts.Unused > maxUnused {
			unused = append(unused, fmt.Sprintf("%s (%d)", p.Principal, p.Counts.Unused))
		}
		if (failOn == "missing" || failOn == "any") && p.Counts.Missing > 0 {
			missing = append(missing, fmt.Sprintf("%s (%d)", p.Principal, p.Counts.Missing))
		}
	}
	var parts []string
	if len(unused) > 0 {
		parts = append(parts, fmt.Sprintf("%d principal(s) with more than %d unused grants: %s", len(unused), maxUnused, strings.Join(unused, ", ")))
	}
	if len(missing) > 0 {
		parts = append(parts, fmt.Sprintf("%d principal(s) with missing permissions: %s", len(missing), strings.Join(missing, ", ")))
	}
	if len(parts) == 0 {
		return nil
	}
	return &findingsError{msg: "diff: " + strings.Join(parts, "; ")}
}

// loadDiffSource reads the current policies.
func loadDiffSource(ctx context.Context, o *diffOptions) (*diffSource, error) {
	// accounts by ID; several files may give one account each.
	accts := map[string]*iamstate.Account{}
	var order []*iamstate.Account
	var info policydiff.Source
	addAccount := func(a *iamstate.Account, name string) error {
		if !a.Read.AuthorizationDetails {
			return usageErrorf("", "%s holds no authorization details (get-account-authorization-details)", name)
		}
		if prev := accts[a.ID]; prev != nil {
			return usageErrorf("", "%s: account %s is given twice", name, a.ID)
		}
		accts[a.ID] = a
		order = append(order, a)
		for _, p := range a.Problems {
			if p.Source == iamstate.SourceGAAD {
				fmt.Fprintf(o.Stderr, "warning: %s: %s\n", name, p)
			}
		}
		return nil
	}
	switch {
	case len(o.GAAD) > 0 || len(o.Snapshot) > 0:
		files := o.GAAD
		kind, what := policydiff.SourceGAAD, "GAAD"
		if len(o.Snapshot) > 0 {
			files, kind, what = o.Snapshot, policydiff.SourceSnapshot, "snapshot"
		}
		for _, f := range files {
			fs := iamstate.Files{GAAD: f}
			if kind == policydiff.SourceSnapshot {
				fs = iamstate.Files{Snapshot: f}
			}
			in, err := fs.Load()
			if err != nil {
				return nil, fmt.Errorf("read the account state: %w", err)
			}
			if err := addAccount(iamstate.Build(in), f); err != nil {
				return nil, err
			}
		}
		info = policydiff.Source{Kind: kind, Name: what + " " + strings.Join(files, ", ")}
		if len(files) == 1 {
			info.File = files[0]
		}
	case o.Live:
		var lo []func(*config.LoadOptions) error
		if o.Profile != "" {
			lo = append(lo, config.WithSharedConfigProfile(o.Profile))
		}
		cfg, err := config.LoadDefaultConfig(ctx, lo...)
		if err != nil {
			return nil, fmt.Errorf("load AWS configuration: %w", err)
		}
		a, err := live.ReadAccount(ctx, cfg, live.AccountOptions{IAMEndpoint: o.EndpointURL, STSEndpoint: o.EndpointURL})
		if err != nil {
			return nil, err
		}
		if err := addAccount(a, "IAM"); err != nil {
			return nil, err
		}
		info = policydiff.Source{Kind: policydiff.SourceLive, Name: "IAM of account " + a.ID + " (live)"}
	}
	// account returns the state of the account an ARN names.
	account := func(arn string) *iamstate.Account {
		if len(order) == 1 {
			return order[0]
		}
		if parts := strings.SplitN(arn, ":", 6); len(parts) == 6 {
			return accts[parts[4]]
		}
		return nil
	}
	var paths *actionmap.Paths
	if len(order) > 0 {
		paths = actionmap.NewPaths()
		for _, a := range order {
			analyzer.StatePaths(a, paths)
		}
	}
	// AWS managed policies the state names by ARN only: the embedded copy.
	eopts := iamstate.EffectiveOptions{AWSManaged: func(arn string) (*iampolicy.Document, bool) {
		p, err := managed.Lookup(arn)
		if err != nil {
			return nil, false
		}
		return p.Document, true
	}}
	switch {
	case o.TerraformPlan != "":
		origin := "iamlens's embedded copy of the AWS managed policies"
		plan, err := tfplan.ReadFile(o.TerraformPlan, tfplan.Options{ManagedPolicy: func(arn string) (*iampolicy.Document, string, bool, bool) {
			for _, a := range order {
				if p := a.Policy(arn); p != nil && p.Document != nil {
					return p.Document, info.Name, false, true
				}
			}
			if p, err := managed.Lookup(arn); err == nil {
				return p.Document, origin, true, true
			}
			return nil, "", false, false
		}})
		if err != nil {
			return nil, err
		}
		for _, p := range plan.Problems {
			fmt.Fprintf(o.Stderr, "warning: %s: %s\n", o.TerraformPlan, p)
		}
		return &diffSource{
			paths: paths,
			info:  policydiff.Source{Kind: policydiff.SourcePlan, Name: "Terraform plan " + o.TerraformPlan, File: o.TerraformPlan},
			effective: func(arn string) (*iamstate.Effective, []string, string, error) {
				pr, err := plan.Find(arn)
				if errors.Is(err, iamstate.ErrNoSuchPrincipal) || errors.Is(err, iamstate.ErrNotPrincipal) {
					return nil, nil, "", errNotInSource
				}
				if err != nil {
					return nil, nil, "", err
				}
				return pr.Effective, pr.Notes, pr.Address, nil
			},
			principals: func() []sourcePrincipal {
				var out []sourcePrincipal
				for _, pr := range plan.Principals {
					name := pr.ARN
					if name == "" {
						name = string(pr.Kind) + " " + pr.Name
						if pr.Name == "" {
							name = string(pr.Kind) + " (name unknown until apply)"
						}
						if pr.Address != "" {
							name += " (" + pr.Address + ")"
						}
					}
					out = append(out, sourcePrincipal{Key: sourceKey(pr.Effective, pr.Address), Name: name})
				}
				return out
			},
		}, nil
	case len(o.Policies) > 0:
		return policyFilesSource(o)
	}
	return &diffSource{
		info:  info,
		paths: paths,
		effective: func(arn string) (*iamstate.Effective, []string, string, error) {
			acct := account(arn)
			if acct == nil {
				return nil, nil, "", errNotInSource
			}
			e, err := acct.EffectivePoliciesWith(arn, eopts)
			if errors.Is(err, iamstate.ErrNoSuchPrincipal) || errors.Is(err, iamstate.ErrNotPrincipal) {
				return nil, nil, "", errNotInSource
			}
			return e, nil, "", err
		},
		principals: func() []sourcePrincipal {
			var out []sourcePrincipal
			for _, acct := range order {
				for _, u := range acct.Users {
					out = append(out, sourcePrincipal{Key: u.ARN, Name: u.ARN})
				}
				for _, r := range acct.Roles {
					if !r.ServiceLinked {
						out = append(out, sourcePrincipal{Key: r.ARN, Name: r.ARN})
					}
				}
			}
			return out
		},
	}, nil
}

// policyFilesSource gives every principal asked the same policies.
func policyFilesSource(o *diffOptions) (*diffSource, error) {
	load := func(args []string, kind iamstate.PolicyKind) ([]iamstate.AppliedPolicy, error) {
		var out []iamstate.AppliedPolicy
		for _, a := range args {
			p, err := loadPolicy(a)
			if err != nil {
				return nil, err
			}
			if err := p.Document.Validate(iampolicy.KindIdentity); err != nil {
				fmt.Fprintf(o.Stderr, "warning: %s: %v\n", a, err)
			}
			ap := iamstate.AppliedPolicy{Label: a, Kind: kind, Name: p.Name, Document: p.Document}
			if _, err := os.Stat(a); err != nil {
				ap.ARN = p.Name
				if m, err := managed.Find(a); err == nil {
					ap.ARN, ap.Name = m.ARN, m.Name
					ap.Label = "AWS managed " + m.Name + " (" + m.ARN + ")"
					ap.Kind = iamstate.PolicyManaged // no file to point at
					if kind == iamstate.PolicyBoundary {
						ap.Kind = kind
					}
				}
			}
			out = append(out, ap)
		}
		return out, nil
	}
	pols, err := load(o.Policies, iamstate.PolicyFile)
	if err != nil {
		return nil, err
	}
	var bound *iamstate.AppliedPolicy
	if len(o.Boundary) > 0 {
		bs, err := load(o.Boundary, iamstate.PolicyBoundary)
		if err != nil {
			return nil, err
		}
		if len(bs) > 1 {
			// Several boundary files: one boundary made of their statements.
			merged := &iampolicy.Document{Version: iampolicy.Version}
			var names []string
			for _, b := range bs {
				merged.Statement = append(merged.Statement, b.Document.Statement...)
				names = append(names, b.Label)
			}
			bs = []iamstate.AppliedPolicy{{Label: strings.Join(names, " + "), Kind: iamstate.PolicyBoundary, Name: "boundary", Document: merged}}
		}
		bound = &bs[0]
	}
	var names []string
	for _, p := range o.Policies {
		names = append(names, filepath.Base(p))
	}
	return &diffSource{
		info: policydiff.Source{Kind: policydiff.SourcePolicy, Name: "policy files " + strings.Join(names, ", ")},
		effective: func(arn string) (*iamstate.Effective, []string, string, error) {
			e := &iamstate.Effective{Name: analyzer.PrincipalName(arn), ARN: arn, Policies: pols, Boundary: bound}
			return e, nil, "", nil
		},
		principals: func() []sourcePrincipal { return nil },
	}, nil
}
