package review

import (
	"context"
	"errors"
	"sort"
	"strings"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// maxUnusedActions caps the unused actions a finding lists (the count is
// always whole).
const maxUnusedActions = 200

// UnusedPermissionsOf compares the actions a principal's policies grant
// (iampolicy.Evaluator.Actions) with the actions its successful calls
// used: the granted-but-unused actions and the services none of whose
// granted actions was used. `iamlens diff` and the review both call it, so
// they agree by construction.
func UnusedPermissionsOf(granted []iampolicy.Grant, used []string) *UnusedPermissions {
	u := &UnusedPermissions{Granted: len(granted), Actions: []string{}, Services: []string{}}
	usedSet := map[string]bool{}
	for _, a := range used {
		usedSet[strings.ToLower(a)] = true
	}
	grantedSvc, usedSvc := map[string]bool{}, map[string]bool{}
	for _, g := range granted {
		svc, _, _ := strings.Cut(g.Action, ":")
		grantedSvc[svc] = true
		if usedSet[strings.ToLower(g.Action)] {
			u.Used++
			usedSvc[svc] = true
			continue
		}
		u.UnusedCount++
		if len(u.Actions) < maxUnusedActions {
			u.Actions = append(u.Actions, g.Action)
		}
	}
	for svc := range grantedSvc {
		if !usedSvc[svc] {
			u.Services = append(u.Services, svc)
		}
	}
	sort.Strings(u.Services)
	return u
}

// StatePermissions is Permissions over the account state's identity
// policies (evaluated with package iampolicy) and the actions the dataset
// shows each principal used (Activity.Used).
type StatePermissions struct {
	Account *iamstate.Account
	Used    map[string][]string
	// Options tune the evaluator (zero: the embedded catalogue).
	Options iampolicy.Options
	byName  map[string][]string
}

// Unused implements Permissions.
func (p *StatePermissions) Unused(_ context.Context, principalARN string) (*UnusedPermissions, error) {
	eff, err := p.Account.EffectivePolicies(principalARN)
	if errors.Is(err, iamstate.ErrNoSuchPrincipal) || errors.Is(err, iamstate.ErrNotPrincipal) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	set := iampolicy.Set{}
	for _, ap := range eff.Policies {
		if ap.Document != nil {
			set.Identity = append(set.Identity, iampolicy.Policy{Name: ap.Name, Source: ap.Label, Document: ap.Document})
		}
	}
	if eff.Boundary != nil && eff.Boundary.Document != nil {
		set.Boundary = []iampolicy.Policy{{Name: eff.Boundary.Name, Source: eff.Boundary.Label, Document: eff.Boundary.Document}}
	}
	if len(set.Identity) == 0 {
		return nil, nil
	}
	opts := p.Options
	if opts.Partition == "" {
		opts.Partition = p.Account.Partition
	}
	ev, err := iampolicy.New(set, opts)
	if err != nil {
		return nil, err
	}
	u := UnusedPermissionsOf(ev.Actions(), p.used(principalARN))
	u.Unknown = eff.Unknown
	return u, nil
}

func (p *StatePermissions) used(arn string) []string {
	if u, ok := p.Used[arn]; ok {
		return u
	}
	if p.byName == nil {
		p.byName = map[string][]string{}
		for a, u := range p.Used {
			if k := nameKey(a); k != "" {
				p.byName[k] = u
			}
		}
	}
	return p.byName[nameKey(arn)]
}
