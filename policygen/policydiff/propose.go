package policydiff

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/aymanbagabas/go-udiff"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/policygen"
)

// The proposal is `iamlens analyze`'s policy, held to the current
// identity policies so that it never grants more than they do:
//
//  1. every (action, Resource entry) pair of the generated statements is
//     kept only when the current Allow statements cover it
//     (Evaluator.Covers: every resource of the action's types the entry
//     names is allowed, unconditionally);
//  2. a pair that is not covered (a prefix wider than the grant, "*" for
//     calls whose resource the log hides, a grant under a condition) falls
//     back to the ARNs seen that are covered, one by one, and then to a
//     copy of the current statement that grants the action, narrowed to
//     that action (its resources and conditions unchanged);
//  3. an action the current policies do not grant at all (granted
//     elsewhere) is left out;
//  4. the current Deny statements that match a proposed action are kept
//     as they are.
//
// Each kept pair is inside a current Allow, each fallback is a current
// Allow narrowed to one action, and the current Denies still apply: what
// the proposal allows, the current policies allow. The permissions
// boundary is not part of the proposal; it stays attached.

// propose builds p.Proposed, its notes and the unified diff.
func (c *comparison) propose() error {
	res, err := policygen.Generate(c.in.Usage, c.opts.Catalog, c.opts.Generate)
	if err != nil {
		return err
	}
	sids := map[string]int{}
	for _, d := range res.Policies {
		for _, st := range d.Statement {
			sids[st.Sid]++
		}
	}
	newSid := func(base string) string {
		sid := base
		for n := 2; sids[sid] > 0; n++ {
			sid = fmt.Sprintf("%s%d", base, n)
		}
		sids[sid]++
		return sid
	}
	type drop struct{ action, resource string }
	var stmts []iampolicy.Statement
	var drops []drop
	for _, d := range res.Policies {
		for _, st := range d.Statement {
			covered := map[string][]string{}
			all := true
			for _, a := range st.Action {
				for _, r := range st.Resource {
					if c.e.Covers(a, r, nil) {
						covered[a] = append(covered[a], r)
					} else {
						all = false
						drops = append(drops, drop{a, r})
					}
				}
			}
			if all {
				stmts = append(stmts, st)
				continue
			}
			// Actions that keep the same resources share a statement.
			byRes := map[string][]string{}
			var keys []string
			for _, a := range st.Action {
				if len(covered[a]) == 0 {
					continue
				}
				k := strings.Join(covered[a], "\x00")
				if byRes[k] == nil {
					keys = append(keys, k)
				}
				byRes[k] = append(byRes[k], a)
			}
			for _, k := range keys {
				n := st
				n.Sid = newSid(st.Sid + "Narrowed")
				n.Action = byRes[k]
				n.Resource = strings.Split(k, "\x00")
				stmts = append(stmts, n)
			}
		}
	}

	// Fallbacks, one action at a time.
	byAction := map[string][]string{}
	var order []string
	for _, d := range drops {
		if byAction[d.action] == nil {
			order = append(order, d.action)
		}
		byAction[d.action] = append(byAction[d.action], d.resource)
	}
	var exact []iampolicy.Statement
	copied := map[string]bool{}
	var fromCurrent []iampolicy.Statement
	for _, a := range order {
		ua := c.byAction[a]
		if ua == nil {
			c.p.ProposedNotes = append(c.p.ProposedNotes, fmt.Sprintf("%s: left out; the current policies do not grant it (it was granted elsewhere, or is taken away)", a))
			continue
		}
		var keep []string
		needCurrent := false
		for _, pattern := range byAction[a] {
			if pattern == "*" {
				needCurrent = true
				continue
			}
			for _, r := range ua.au.Resources {
				if r.ARN == "*" || !iampolicy.MatchResource(pattern, r.ARN) {
					continue
				}
				lit := iampolicy.EscapeLiteral(r.ARN)
				switch {
				case c.e.Covers(a, lit, nil):
					keep = append(keep, lit)
				case containsStr(ua.granted, r.ARN):
					needCurrent = true // granted, but only under a condition or a variable
				}
			}
		}
		if len(keep) > 0 {
			sort.Strings(keep)
			keep = dedup(keep)
			exact = append(exact, iampolicy.Statement{Sid: newSid(sidBase(a) + "Seen"), Effect: iampolicy.Allow, Action: iampolicy.Values{a}, Resource: keep})
			c.p.ProposedNotes = append(c.p.ProposedNotes, fmt.Sprintf("%s: %s is wider than the current grant; narrowed to the %d resource(s) seen", a, strings.Join(byAction[a], ", "), len(keep)))
		}
		if !needCurrent {
			continue
		}
		var from []string
		for _, ref := range ua.refs {
			if ref.Layer != iampolicy.LayerIdentity || ref.Effect != iampolicy.Allow {
				continue
			}
			key := fmt.Sprintf("%s|%s|%d", a, ref.Policy, ref.Index)
			st := c.statement(ref)
			if st == nil || copied[key] {
				continue
			}
			copied[key] = true
			n := iampolicy.Statement{Sid: newSid(sidBase(a) + "Current"), Effect: iampolicy.Allow, Action: iampolicy.Values{a},
				Resource: st.Resource, NotResource: st.NotResource, Condition: st.Condition}
			fromCurrent = append(fromCurrent, n)
			from = append(from, label(c.cur, ref))
		}
		if len(from) > 0 {
			c.p.ProposedNotes = append(c.p.ProposedNotes, fmt.Sprintf("%s: the calls seen do not narrow the current grant (unknown resources, or a grant under a condition); kept as %s grants it", a, strings.Join(from, "; ")))
		}
	}
	stmts = append(stmts, exact...)
	stmts = append(stmts, fromCurrent...)

	// The current Deny statements that match a proposed action.
	var denies []iampolicy.Statement
	for _, ap := range c.cur.Policies {
		for i, st := range ap.Document.Statement {
			if st.Effect != iampolicy.Deny || !matchesAny(st, stmts) {
				continue
			}
			d := st
			base := d.Sid
			if base == "" {
				base = fmt.Sprintf("Statement%d", i)
			}
			d.Sid = newSid("CurrentDeny" + sanitizeSid(base))
			denies = append(denies, d)
		}
	}
	if len(denies) > 0 {
		c.p.ProposedNotes = append(c.p.ProposedNotes, fmt.Sprintf("kept %d Deny statement(s) of the current policies as they are", len(denies)))
	}
	stmts = append(stmts, denies...)
	if stmts == nil {
		stmts = []iampolicy.Statement{}
	}
	doc := &iampolicy.Document{Version: iampolicy.Version, Statement: stmts}
	c.p.Proposed = doc
	c.p.ProposedChars = policygen.Chars(doc)
	if c.p.ProposedChars > policygen.ManagedPolicyLimit {
		c.p.ProposedNotes = append(c.p.ProposedNotes, fmt.Sprintf("%d characters: over the %d of one managed policy; split it, or use iamlens analyze --size", c.p.ProposedChars, policygen.ManagedPolicyLimit))
	}
	if c.cur.Boundary != nil {
		c.p.ProposedNotes = append(c.p.ProposedNotes, "the permissions boundary "+c.cur.Boundary.Name+" is not part of the proposal: it stays attached")
	}
	for _, n := range c.p.NotObservable {
		if n.Needed && n.Resource != "" {
			what := "the current policies grant it"
			if !n.Granted {
				what = "the current policies do not grant it"
			}
			c.p.ProposedNotes = append(c.p.ProposedNotes, fmt.Sprintf("%s on %s: needed by calls seen, but CloudTrail cannot show it (%s); not in the proposal: add it by hand", n.Action, n.Resource, what))
		}
	}
	if res.FailedExcluded {
		c.p.ProposedNotes = append(c.p.ProposedNotes, "calls authorised and then failed are left out (--exclude-failed)")
	}
	if len(c.cur.Unknown) > 0 {
		c.p.ProposedNotes = append(c.p.ProposedNotes, fmt.Sprintf("%s that applies could not be read (see unknown): the proposal is held to the policies that could", plural(len(c.cur.Unknown), "policy", "policies")))
	}
	c.p.UnifiedDiff = unified(c.currentText(), docText(doc), fmt.Sprintf("current (%s of %s)", plural(len(c.cur.Policies), "policy", "policies"), c.p.Principal), "proposed")
	return nil
}

// plural writes "1 policy", "2 policies".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func dedup(xs []string) []string {
	out := xs[:0]
	for i, x := range xs {
		if i == 0 || x != xs[i-1] {
			out = append(out, x)
		}
	}
	return out
}

// matchesAny reports whether the Deny statement d matches an action of an
// Allow statement of stmts.
func matchesAny(d iampolicy.Statement, stmts []iampolicy.Statement) bool {
	for _, st := range stmts {
		for _, a := range st.Action {
			if d.MatchesAction(a) {
				return true
			}
		}
	}
	return false
}

// sidBase names a statement after an action's service: "S3", "Dynamodb".
func sidBase(action string) string {
	svc, _, _ := strings.Cut(action, ":")
	return sanitizeSid(svc)
}

// sanitizeSid keeps the letters and digits of s, capitalised after each
// other character (a Sid is alphanumeric).
func sanitizeSid(s string) string {
	var b strings.Builder
	up := true
	for _, r := range s {
		if r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "Stmt"
	}
	return b.String()
}

// normalised returns a statement with its lists sorted, for comparison.
func normalised(st iampolicy.Statement) iampolicy.Statement {
	sorted := func(v iampolicy.Values) iampolicy.Values {
		if v == nil {
			return nil
		}
		out := append(iampolicy.Values{}, v...)
		sort.Strings(out)
		return out
	}
	st.Action, st.NotAction = sorted(st.Action), sorted(st.NotAction)
	st.Resource, st.NotResource = sorted(st.Resource), sorted(st.NotResource)
	return st
}

// docText writes statements as one normalised document: lists sorted,
// statements in the order of their text.
func docText(doc *iampolicy.Document) string {
	type item struct {
		st  iampolicy.Statement
		key string
	}
	var items []item
	for _, st := range doc.Statement {
		n := normalised(st)
		n.Sid = ""
		b, _ := json.Marshal(n)
		n.Sid = st.Sid
		items = append(items, item{n, string(b) + "\x00" + st.Sid})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].key < items[j].key })
	out := &iampolicy.Document{Version: doc.Version, Statement: []iampolicy.Statement{}}
	if out.Version == "" {
		out.Version = iampolicy.Version
	}
	for _, it := range items {
		out.Statement = append(out.Statement, it.st)
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	return string(b) + "\n"
}

// currentText is the current identity policies as one normalised
// document (the boundary is not: it stays).
func (c *comparison) currentText() string {
	c.ev.textOnce.Do(func() {
		all := &iampolicy.Document{Version: iampolicy.Version}
		for _, ap := range c.cur.Policies {
			all.Statement = append(all.Statement, ap.Document.Statement...)
		}
		c.ev.text = docText(all)
	})
	return c.ev.text
}

// unified diffs two texts; "" when they are equal.
func unified(old, new, oldLabel, newLabel string) string {
	if old == new {
		return ""
	}
	return udiff.Unified(oldLabel, newLabel, old, new)
}
