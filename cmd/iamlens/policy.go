package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iampolicy/managed"
)

func newPolicyCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Read IAM policies: the actions they allow, and one request's decision",
		Long: `Read IAM policy documents with iamlens's evaluator. A POLICY argument is a file (a policy
document, or the output of aws iam get-policy-version, get-role-policy, get-user-policy or
aws s3api get-bucket-policy), an AWS managed policy's ARN, or its name (ReadOnlyAccess).
Several POLICY arguments are one principal's policies: any of them may allow, a Deny in any
wins. --boundary adds a permissions boundary: then both must allow.

Conditions are read conservatively: an Allow under a condition is "conditional", a Deny under
a condition is reported but never assumed.`,
	}
	cmd.AddCommand(newPolicyActionsCmd(env, g), newPolicyCheckCmd(env, g))
	return cmd
}

// managedSource starts the Source of an embedded AWS managed policy
// (managed.Policy.Policy).
const managedSource = "aws-managed "

// needPolicies asks for at least one POLICY argument (a usage error).
func needPolicies(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return usageErrorf(fmt.Sprintf("Run '%s --help' for usage.", cmd.CommandPath()),
			"name at least one POLICY: a file, an AWS managed policy ARN or its name")
	}
	return nil
}

// policyInputs are the policies of one principal, as given on the command
// line.
type policyInputs struct {
	Policies []string
	Boundary []string
}

func (in *policyInputs) flags(cmd *cobra.Command) {
	cmd.Flags().StringArrayVar(&in.Boundary, "boundary", nil, "permissions boundary: a file, ARN or AWS managed policy name (repeatable)")
}

// loadPolicy reads one POLICY argument: a file when one exists at that
// path, else an AWS managed policy by ARN or name.
func loadPolicy(arg string) (iampolicy.Policy, error) {
	if _, err := os.Stat(arg); err == nil {
		return iampolicy.ParseFile(arg)
	}
	p, err := managed.Find(arg)
	if err != nil {
		var nf *managed.NotFoundError
		if errors.As(err, &nf) {
			hint := "A POLICY is a file, an AWS managed policy ARN or its name (ReadOnlyAccess)."
			if len(nf.Similar) > 0 {
				hint = "Did you mean: " + strings.Join(nf.Similar, ", ") + "?"
			}
			return iampolicy.Policy{}, usageErrorf(hint, "%q is neither a file nor an AWS managed policy", arg)
		}
		return iampolicy.Policy{}, err
	}
	return p.Policy(), nil
}

// evaluator reads the inputs, warns on stderr about documents IAM would
// reject and actions the catalogue does not know, and builds the
// evaluator.
func (in *policyInputs) evaluator(stderr io.Writer) (*iampolicy.Evaluator, error) {
	var set iampolicy.Set
	load := func(args []string, layer string) ([]iampolicy.Policy, error) {
		var out []iampolicy.Policy
		for _, a := range args {
			p, err := loadPolicy(a)
			if err != nil {
				return nil, err
			}
			if err := p.Document.Validate(iampolicy.KindIdentity); err != nil {
				fmt.Fprintf(stderr, "warning: %s (%s): %v\n", p.Name, layer, err)
			}
			out = append(out, p)
		}
		return out, nil
	}
	var err error
	if set.Identity, err = load(in.Policies, "identity"); err != nil {
		return nil, err
	}
	if len(in.Boundary) > 0 {
		if set.Boundary, err = load(in.Boundary, "boundary"); err != nil {
			return nil, err
		}
	}
	e, err := iampolicy.New(set, iampolicy.Options{})
	if err != nil {
		return nil, err
	}
	// One line per policy. AWS's own policies are left out: they still
	// name actions of retired services, and nobody reading them can change
	// that.
	var order []string
	by := map[string][]string{}
	for _, u := range e.Unmatched() {
		if strings.HasPrefix(u.Statement.Source, managedSource) {
			continue
		}
		if by[u.Statement.Policy] == nil {
			order = append(order, u.Statement.Policy)
		}
		by[u.Statement.Policy] = append(by[u.Statement.Policy], u.Action)
	}
	for _, p := range order {
		acts := by[p]
		more := ""
		if len(acts) > 3 {
			acts, more = acts[:3], fmt.Sprintf(" and %d more", len(by[p])-3)
		}
		fmt.Fprintf(stderr, "warning: %s: %d action(s) match no action of the IAM catalogue: %s%s\n", p, len(by[p]), strings.Join(acts, ", "), more)
	}
	return e, nil
}

type policyActionsOptions struct {
	policyInputs
	Service string
	List    bool
	Format  string
	Stdout  io.Writer
	Stderr  io.Writer
}

func newPolicyActionsCmd(env *cmdEnv, _ *globalOptions) *cobra.Command {
	o := &policyActionsOptions{}
	cmd := &cobra.Command{
		Use:   "actions POLICY...",
		Short: "List every catalogue action the policies allow",
		Long: `List every action of the embedded IAM catalogue that the policies allow on some resource:
wildcards ("s3:Get*", "*") and NotAction are expanded, and an action counts only where a
resource of one of its types can match the statement's Resource (s3:GetBucketPolicy is not
allowed by Resource "arn:aws:s3:::b/*"; an action without resource types needs "*").
Actions allowed only under a condition are marked conditional.

The table sums the actions by service; --service or --list shows the actions themselves.
--format json writes {"actions":[{"action":…,"conditional":…}]}, sorted.`,
		Example: `  iamlens policy actions examples/policies/app.json
  iamlens policy actions ReadOnlyAccess --service s3
  iamlens policy actions arn:aws:iam::aws:policy/PowerUserAccess --boundary examples/policies/boundary.json
  iamlens policy actions examples/policies/app.json ViewOnlyAccess --format json`,
		Args: needPolicies,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Policies = args
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			return runPolicyActions(cmd.Context(), o)
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&o.Service, "service", "", "only this service prefix (s3, ec2, …)")
	cmd.Flags().BoolVar(&o.List, "list", false, "list every action, not only the counts by service")
	cmd.Flags().StringVar(&o.Format, "format", "table", "output format: table or json")
	return cmd
}

type policyActionsReport struct {
	Policies []string          `json:"policies"`
	Boundary []string          `json:"boundary,omitempty"`
	Count    int               `json:"count"`
	Actions  []iampolicy.Grant `json:"actions"`
}

func runPolicyActions(_ context.Context, o *policyActionsOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	svc := strings.ToLower(o.Service)
	if svc != "" {
		if _, ok := cat.Service(svc); !ok {
			return usageErrorf(catalogHint(cat, svc), "no service prefix %q in the catalogue", o.Service)
		}
	}
	e, err := o.evaluator(o.Stderr)
	if err != nil {
		return err
	}
	grants := []iampolicy.Grant{}
	for _, g := range e.Actions() {
		if svc == "" || strings.HasPrefix(g.Action, svc+":") {
			grants = append(grants, g)
		}
	}
	if o.Format == "json" {
		return writeJSON(o.Stdout, policyActionsReport{Policies: o.Policies, Boundary: o.Boundary, Count: len(grants), Actions: grants})
	}
	cond := 0
	type svcCount struct{ n, cond int }
	by := map[string]*svcCount{}
	for _, g := range grants {
		p, _, _ := strings.Cut(g.Action, ":")
		if by[p] == nil {
			by[p] = &svcCount{}
		}
		by[p].n++
		if g.Conditional {
			by[p].cond++
			cond++
		}
	}
	fmt.Fprintf(o.Stdout, "%d actions in %d services allowed (%d only under conditions)\n\n", len(grants), len(by), cond)
	if len(grants) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', 0)
	if svc != "" || o.List {
		fmt.Fprintln(tw, "ACTION\tACCESS LEVEL\tALLOWED\tBY")
		for _, g := range grants {
			level := ""
			if a, ok := cat.Action(g.Action); ok {
				level = a.AccessLevel
			}
			allowed := "yes"
			if g.Conditional {
				allowed = "conditional"
			}
			if g.ConditionalDeny {
				allowed += ", a Deny may apply"
			}
			var by []string
			for _, s := range g.Statements {
				by = append(by, s.String())
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", g.Action, level, allowed, strings.Join(by, "; "))
		}
		return tw.Flush()
	}
	prefixes := make([]string, 0, len(by))
	for p := range by {
		prefixes = append(prefixes, p)
	}
	sort.Strings(prefixes)
	fmt.Fprintln(tw, "SERVICE\tALLOWED\tOF\tCONDITIONAL")
	for _, p := range prefixes {
		total := 0
		if s, ok := cat.Service(p); ok {
			total = len(s.Actions)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\n", p, by[p].n, total, by[p].cond)
	}
	return tw.Flush()
}

type policyCheckOptions struct {
	policyInputs
	Action   string
	Resource string
	Context  []string
	Format   string
	Stdout   io.Writer
	Stderr   io.Writer
}

func newPolicyCheckCmd(env *cmdEnv, _ *globalOptions) *cobra.Command {
	o := &policyCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check POLICY... --action SERVICE:ACTION [--resource ARN]",
		Short: "Decide one request: is the action allowed on the resource?",
		Long: `Decide one request against the policies and name the statement that decided it.
Without --resource the question is "on some resource of the action's types"; an action
without resource types is always asked about "*". --context KEY=VALUE gives a condition
key's value (repeatable), so conditions on it are decided instead of left open.

Exit codes: 0 allowed; 3 not allowed (an explicit or implicit deny) or allowed only under
conditions iamlens cannot decide; 2 a usage error (an unknown action, a missing policy).`,
		Example: `  # allowed: exit 0
  iamlens policy check examples/policies/app.json --action s3:GetObject --resource arn:aws:s3:::reports/2026/q1.csv
  iamlens policy check examples/policies/app.json --action s3:PutObject --resource arn:aws:s3:::reports/drafts/a.csv --context aws:SecureTransport=true

  # denied, or allowed only under a condition the request does not settle: exit 3
  iamlens policy check examples/policies/app.json --action s3:DeleteObject --resource arn:aws:s3:::reports/q1.csv
  iamlens policy check ReadOnlyAccess --action s3:PutObject --resource arn:aws:s3:::reports/q1.csv --format json
  iamlens policy check PowerUserAccess --boundary examples/policies/boundary.json --action ec2:RunInstances`,
		Args: needPolicies,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Policies = args
			o.Stdout, o.Stderr = env.Stdout, env.Stderr
			return runPolicyCheck(cmd.Context(), o)
		},
	}
	o.flags(cmd)
	cmd.Flags().StringVar(&o.Action, "action", "", "the action, service:Action (required)")
	cmd.Flags().StringVar(&o.Resource, "resource", "", "the resource ARN (default: some resource of the action's types)")
	cmd.Flags().StringArrayVar(&o.Context, "context", nil, "a condition key's value, KEY=VALUE (repeatable; repeat a key for several values)")
	cmd.Flags().StringVar(&o.Format, "format", "table", "output format: table or json")
	return cmd
}

func runPolicyCheck(_ context.Context, o *policyCheckOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	if o.Action == "" {
		return usageErrorf("Run 'iamlens policy check --help' for usage.", "--action is required")
	}
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	if strings.ContainsAny(o.Action, "*?") {
		return usageErrorf("Name one action; 'iamlens policy actions' expands wildcards.", "--action %q holds a wildcard: a request is one action", o.Action)
	}
	if _, ok := cat.Action(o.Action); !ok {
		return usageErrorf(catalogHint(cat, o.Action), "no IAM action %q in the catalogue", o.Action)
	}
	req := iampolicy.Request{Action: o.Action, Resource: o.Resource}
	for _, kv := range o.Context {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return usageErrorf("", "--context %q: want KEY=VALUE", kv)
		}
		if req.Context == nil {
			req.Context = map[string][]string{}
		}
		req.Context[k] = append(req.Context[k], v)
	}
	e, err := o.evaluator(o.Stderr)
	if err != nil {
		return err
	}
	r := e.Evaluate(req)
	if r.Note != "" {
		fmt.Fprintln(o.Stderr, "note:", r.Note)
	}
	if o.Format == "json" {
		if err := writeJSON(o.Stdout, r); err != nil {
			return err
		}
	} else if err := writeDecision(o.Stdout, r); err != nil {
		return err
	}
	if r.Decision != iampolicy.Allowed {
		return &findingsError{}
	}
	return nil
}

func writeDecision(w io.Writer, r iampolicy.Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	resource := r.Resource
	if resource == "" {
		resource = "(some resource of the action's types)"
	}
	fmt.Fprintf(tw, "decision\t%s\naction\t%s\nresource\t%s\nreason\t%s\n", r.Decision, r.Action, resource, r.Reason)
	for _, s := range r.Statements {
		fmt.Fprintf(tw, "statement\t%s\n", describeRef(s))
	}
	for _, s := range r.ConditionalDenies {
		fmt.Fprintf(tw, "conditional deny\t%s\n", describeRef(s))
	}
	fmt.Fprintf(tw, "evaluated\t%s\n", strings.Join(r.Layers, ", "))
	return tw.Flush()
}

func describeRef(s iampolicy.StatementRef) string {
	out := fmt.Sprintf("%s: %s, %s", s.Layer, s, s.Effect)
	if s.Conditional {
		out += " under conditions"
	}
	if s.Source != "" {
		out += " (" + s.Source + ")"
	}
	return out
}
