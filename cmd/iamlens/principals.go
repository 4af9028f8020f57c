package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/policygen"
)

type principalsOptions struct {
	Store    string
	Engine   engineOptions
	Format   string
	Sort     string
	Accounts []string
	Kinds    []string
	From, To string
	Stdout   io.Writer
	Stderr   io.Writer
	// Width is the terminal's width (0: not a terminal, no limit).
	Width int
}

func newPrincipalsCmd(env *cmdEnv, g *globalOptions) *cobra.Command {
	o := &principalsOptions{}
	cmd := &cobra.Command{
		Use:   "principals",
		Short: "List who appears in the dataset, with event counts and first and last seen",
		Long: `List every principal in the dataset under --store: IAM users, roles (assumed-role
sessions collapse to the role ARN with its path), IAM Identity Center
permission-set roles, service-linked roles, root, federated users, AWS services,
other accounts, web-identity and SAML users. Each line shows the events and
errors of the principal, when it was first and last seen, the accounts it
called into, and whether any call crossed into another account.`,
		Example: `  iamlens principals
  iamlens principals --kind role,sso-role --sort events
  iamlens principals --account 123837392027 --from 2023-07-10 --to 2023-07-10 --format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Store = g.Store
			o.Stdout, o.Stderr, o.Width = env.Stdout, env.Stderr, env.Width
			return runPrincipals(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	engineFlags(f, &o.Engine)
	f.StringSliceVar(&o.Accounts, "account", nil, "only events in these accounts (repeatable, comma-separated)")
	f.StringSliceVar(&o.Kinds, "kind", nil, "only these kinds: "+strings.Join(cloudtrail.Kinds, ", "))
	f.StringVar(&o.From, "from", "", "first day, YYYY-MM-DD (or RFC 3339)")
	f.StringVar(&o.To, "to", "", "last day, YYYY-MM-DD, inclusive (or RFC 3339)")
	f.StringVar(&o.Sort, "sort", "arn", "order: arn, events (most first) or last-seen (most recent first)")
	f.StringVar(&o.Format, "format", "table", "output format: table or json")
	completeValues(cmd, "format", "table", "json")
	completeValues(cmd, "kind", cloudtrail.Kinds...)
	completeValues(cmd, "sort", analyzer.SortPrincipalsByARN, analyzer.SortPrincipalsByEvents, analyzer.SortPrincipalsByLastSeen)
	completeAccounts(cmd)
	return cmd
}

func runPrincipals(ctx context.Context, o *principalsOptions) error {
	if o.Format != "table" && o.Format != "json" {
		return usageErrorf("", "--format must be table or json, not %q", o.Format)
	}
	from, to, err := parseRange(o.From, o.To)
	if err != nil {
		return err
	}
	opts := analyzer.PrincipalOptions{Accounts: o.Accounts, Kinds: o.Kinds, From: from, To: to}
	if err := opts.Validate(); err != nil {
		return usageErrorf("", "--kind: %v", err)
	}
	if err := analyzer.SortPrincipals(nil, o.Sort); err != nil {
		return usageErrorf("", "--sort: %v", err)
	}
	if err := o.Engine.validate(o.Store); err != nil {
		return err
	}
	lightGC()
	st, err := openStoreForRead(ctx, o.Store)
	if err != nil {
		return err
	}
	opts.Notice = rollupNotice(o.Stderr)
	if opts.Reader, err = o.Engine.reader(ctx, o.Store, st, o.Stderr); err != nil {
		return err
	}
	sums, _, err := analyzer.ListPrincipals(ctx, st, opts)
	if err != nil {
		return err
	}
	if err := analyzer.SortPrincipals(sums, o.Sort); err != nil {
		return err
	}
	if o.Format == "json" {
		return writePrincipalsJSON(o.Stdout, sums)
	}
	return writePrincipalsTable(o.Stdout, sums, o.Width)
}

// rollupNotice tells people on w when a command builds the usage rollup
// before it reads it.
func rollupNotice(w io.Writer) func(analyzer.RollupNotice) {
	if w == nil {
		return nil
	}
	return func(n analyzer.RollupNotice) { fmt.Fprintln(w, "iamlens: "+n.String()) }
}

// parseRange parses --from and --to; a bare --to day includes that whole day.
func parseRange(fromS, toS string) (from, to time.Time, err error) {
	if from, err = parseDay(fromS); err != nil {
		return from, to, usageErrorf("", "--from: %v", err)
	}
	if to, err = parseDay(toS); err != nil {
		return from, to, usageErrorf("", "--to: %v", err)
	}
	if len(toS) == len("2006-01-02") {
		to = to.Add(24*time.Hour - time.Millisecond)
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, usageErrorf("", "--to %s is before --from %s", toS, fromS)
	}
	return from, to, nil
}

// principalName shows a principal for people; events that name nobody are
// grouped under "(unnamed)".
func principalName(arn string) string {
	if arn == "" {
		return "(unnamed)"
	}
	return arn
}

// writePrincipalsTable writes one line a principal. At a terminal of
// width columns (0: no limit) a table that would not fit is narrowed, step
// by step until it fits: days instead of times, a count of accounts
// instead of their list, then principals cut in the middle (their
// partition and service, and the end of their name, stay); --format json
// has the full detail.
func writePrincipalsTable(w io.Writer, sums []analyzer.PrincipalSummary, width int) error {
	if len(sums) == 0 {
		_, err := fmt.Fprintln(w, "no events match the filters")
		return err
	}
	header := []string{"PRINCIPAL", "KIND", "EVENTS", "ERRORS", "FIRST SEEN", "LAST SEEN", "ACCOUNTS", "CROSS-ACCOUNT"}
	rows := make([][]string, len(sums))
	for step := 0; ; step++ {
		for i, s := range sums {
			rows[i] = principalCells(s, step)
		}
		if width <= 0 || step == 2 || tableWidth(header, rows) <= width {
			break
		}
	}
	if over := tableWidth(header, rows) - width; width > 0 && over > 0 {
		longest := 0
		for _, r := range rows {
			longest = max(longest, utf8.RuneCountInString(r[0]))
		}
		keep := max(longest-over, minPrincipalWidth)
		for _, r := range rows {
			r[0] = policygen.ClipMiddle(r[0], keep)
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// minPrincipalWidth is the fewest characters a cut principal keeps.
const minPrincipalWidth = 20

// principalCells is s's line of the table, narrower at each step: 0 full,
// 1 days instead of times, 2 a count instead of a list of accounts.
func principalCells(s analyzer.PrincipalSummary, step int) []string {
	kind := s.Kind
	if s.PermissionSet != "" {
		kind += " (" + s.PermissionSet + ")"
	}
	cross := "-"
	if s.CrossAccount() {
		cross = fmt.Sprintf("yes (%d)", s.CrossAccountEvents)
	}
	accts := strings.Join(s.Accounts, ",")
	switch {
	case accts == "":
		accts = "-"
	case step >= 2 && len(s.Accounts) > 1:
		accts = fmt.Sprintf("%d accounts", len(s.Accounts))
	}
	layout := time.RFC3339
	if step >= 1 {
		layout = time.DateOnly
	}
	return []string{principalName(s.ARN), kind, strconv.FormatInt(s.Events, 10), strconv.FormatInt(s.Errors, 10),
		s.FirstSeen.Format(layout), s.LastSeen.Format(layout), accts, cross}
}

// tableWidth is the width of a tabwriter table of these cells with two
// spaces between columns.
func tableWidth(header []string, rows [][]string) int {
	widths := make([]int, len(header))
	for _, r := range append([][]string{header}, rows...) {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	total := 2 * (len(widths) - 1)
	for _, n := range widths {
		total += n
	}
	return total
}

type principalJSON struct {
	analyzer.PrincipalSummary
	CrossAccount bool `json:"cross_account"`
}

func writePrincipalsJSON(w io.Writer, sums []analyzer.PrincipalSummary) error {
	out := make([]principalJSON, len(sums))
	for i, s := range sums {
		out[i] = principalJSON{PrincipalSummary: s, CrossAccount: s.CrossAccount()}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
