package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

type catalogOptions struct {
	Name     string // "", a service prefix, or service:Action
	Services bool   // list the service prefixes
	Format   string
	Stdout   io.Writer
}

func newCatalogCmd(env *cmdEnv, _ *globalOptions) *cobra.Command {
	o := &catalogOptions{}
	cmd := &cobra.Command{
		Use:   "catalog [SERVICE | SERVICE:ACTION]",
		Short: "Show the embedded IAM catalogue of services, actions and resource types",
		Long: `Show what the embedded IAM catalogue holds: with no argument, its source version and
counts; with a service prefix, that service's actions with access levels and resource
types; with service:Action, one action in full (resource types with ARN formats,
condition keys, dependent actions). Every action iamlens emits is checked against it.`,
		Example: `  iamlens catalog
  iamlens catalog --services
  iamlens catalog s3
  iamlens catalog s3:GetObject --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Name = args[0]
			}
			o.Stdout = env.Stdout
			return runCatalog(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.Format, "format", "table", "output format: table or json")
	cmd.Flags().BoolVar(&o.Services, "services", false, "list every service prefix with its name and number of actions")
	completeValues(cmd, "format", "table", "json")
	return cmd
}

type catalogSummary struct {
	Version       string `json:"version"`
	Services      int    `json:"services"`
	Actions       int    `json:"actions"`
	ResourceTypes int    `json:"resource_types"`
	ConditionKeys int    `json:"condition_keys"`
}

type actionView struct {
	Action           string             `json:"action"`
	AccessLevel      string             `json:"access_level"`
	ResourceTypes    []resourceTypeView `json:"resource_types"`
	ConditionKeys    []string           `json:"condition_keys,omitempty"`
	DependentActions []string           `json:"dependent_actions,omitempty"`
}

type resourceTypeView struct {
	Name       string   `json:"name"`
	Required   bool     `json:"required"`
	ARNFormats []string `json:"arn_formats"`
}

func runCatalog(_ context.Context, o *catalogOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	cat, err := catalog.Load()
	if err != nil {
		return err
	}
	switch {
	case o.Services:
		type serviceView struct {
			Prefix  string `json:"prefix"`
			Name    string `json:"name"`
			Actions int    `json:"actions"`
		}
		var views []serviceView
		for _, p := range cat.Services() {
			svc, _ := cat.Service(p)
			views = append(views, serviceView{Prefix: p, Name: svc.Name, Actions: len(svc.Actions)})
		}
		if o.Format == "json" {
			return writeJSON(o.Stdout, views)
		}
		tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "PREFIX\tSERVICE\tACTIONS")
		for _, v := range views {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", v.Prefix, v.Name, v.Actions)
		}
		return tw.Flush()
	case o.Name == "":
		n := cat.Counts()
		s := catalogSummary{Version: cat.Version(), Services: n.Services, Actions: n.Actions, ResourceTypes: n.ResourceTypes, ConditionKeys: n.ConditionKeys}
		if o.Format == "json" {
			return writeJSON(o.Stdout, s)
		}
		tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintf(tw, "source\t%s\nservices\t%d\nactions\t%d\nresource types\t%d\ncondition keys\t%d\n",
			s.Version, s.Services, s.Actions, s.ResourceTypes, s.ConditionKeys)
		return tw.Flush()
	case strings.Contains(o.Name, ":"):
		a, ok := cat.Action(o.Name)
		if !ok {
			return usageErrorf(catalogHint(cat, o.Name), "no IAM action %q in the catalogue", o.Name)
		}
		v := viewAction(cat, a)
		if o.Format == "json" {
			return writeJSON(o.Stdout, v)
		}
		fmt.Fprintf(o.Stdout, "%s (%s)\n", v.Action, v.AccessLevel)
		if len(v.ResourceTypes) == 0 {
			fmt.Fprintln(o.Stdout, "resource types: none (the action takes Resource \"*\")")
		}
		for _, r := range v.ResourceTypes {
			req := ""
			if r.Required {
				req = " (required)"
			}
			fmt.Fprintf(o.Stdout, "resource type %s%s: %s\n", r.Name, req, strings.Join(r.ARNFormats, " | "))
		}
		if len(v.ConditionKeys) > 0 {
			fmt.Fprintf(o.Stdout, "condition keys: %s\n", strings.Join(v.ConditionKeys, ", "))
		}
		if len(v.DependentActions) > 0 {
			fmt.Fprintf(o.Stdout, "dependent actions: %s\n", strings.Join(v.DependentActions, ", "))
		}
		return nil
	default:
		svc, ok := cat.Service(strings.ToLower(o.Name))
		if !ok {
			return usageErrorf(catalogHint(cat, o.Name), "no service prefix %q in the catalogue", o.Name)
		}
		views := make([]actionView, 0, len(svc.Actions))
		for _, a := range svc.Actions {
			views = append(views, viewAction(cat, a))
		}
		if o.Format == "json" {
			return writeJSON(o.Stdout, map[string]any{"service": svc.Prefix, "name": svc.Name, "actions": views})
		}
		fmt.Fprintf(o.Stdout, "%s: %s, %d actions\n", svc.Prefix, svc.Name, len(views))
		tw := tabwriter.NewWriter(o.Stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "ACTION\tACCESS LEVEL\tRESOURCE TYPES")
		for _, v := range views {
			var rts []string
			for _, r := range v.ResourceTypes {
				rts = append(rts, r.Name)
			}
			if len(rts) == 0 {
				rts = []string{"*"}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\n", v.Action, v.AccessLevel, strings.Join(rts, ", "))
		}
		return tw.Flush()
	}
}

func viewAction(cat *catalog.Catalog, a *catalog.Action) actionView {
	v := actionView{Action: a.FullName(), AccessLevel: a.AccessLevel, ConditionKeys: a.ConditionKeys, DependentActions: a.DependentActions,
		ResourceTypes: []resourceTypeView{}}
	svc, _ := cat.Service(a.Service)
	for _, r := range a.Resources {
		rv := resourceTypeView{Name: r.Type, Required: r.Required}
		if rt, ok := svc.ResourceTypes[r.Type]; ok {
			rv.ARNFormats = rt.ARNFormats
		}
		v.ResourceTypes = append(v.ResourceTypes, rv)
	}
	return v
}

// catalogHint is the "did you mean" of an unknown name.
func catalogHint(cat *catalog.Catalog, name string) string {
	if cands := cat.Suggest(name); len(cands) > 0 {
		return "Did you mean: " + strings.Join(cands, ", ") + "?"
	}
	return "Run 'iamlens catalog --services' for the list of services."
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
