package analyzer

import (
	"context"
	"maps"
	"runtime"
	"slices"
	"sync"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/ingest/store"
)

// learnPaths fills paths with the IAM paths the dataset shows at no more
// cost than a principal's own read: the principals of every file of the
// window, from the files' principal indexes (users' ARNs, and roles'
// through their sessions' issuers, carry the path), every IAM ARN in the
// calls read (the caller's ARN, the resources field, the request's
// parameters), and the entities the calls created (their name and
// "path" parameter). Response elements stay on disk: they are not among the
// columns Analyze reads, and IAM's own responses that name a path (Create
// calls) repeat the request's "path" parameter, which the mapper reads.
//
// The principal indexes are read only when a call still names an IAM
// entity whose path the calls did not show (actionmap.Paths.Missing): a
// principal that never names users or roles by name costs nothing more.
func learnPaths(ctx context.Context, st *store.Store, sq store.Query, agg *Aggregator, paths *actionmap.Paths, stats *Stats) error {
	// On every core: what paths learns does not depend on the order it
	// learns it in (a name seen under two paths is unknown either way).
	aggs := slices.Collect(maps.Values(agg.by))
	workers := min(runtime.GOMAXPROCS(0), len(aggs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(aggs); i += workers {
				p := aggs[i]
				paths.Learn(p.arn)
				last := ""
				for _, c := range p.calls {
					if c.call.UserIdentityARN != last { // a principal's calls share one or a few
						last = c.call.UserIdentityARN
						paths.Learn(last)
					}
					learnCall(&c.call, paths)
				}
			}
		})
	}
	wg.Wait()
	if !agg.anyCall(paths.Missing) {
		return nil
	}
	principals, files, err := store.IndexedPrincipals(ctx, st, store.Query{Accounts: sq.Accounts, From: sq.From, To: sq.To})
	stats.PathIndexes = files
	if err != nil {
		return err
	}
	for _, p := range principals {
		paths.Learn(p)
	}
	return nil
}

// learnCall learns the IAM ARNs one call holds.
func learnCall(c *actionmap.Call, paths *actionmap.Paths) {
	for _, r := range c.Resources {
		paths.Learn(r.ARN)
	}
	paths.LearnText(c.RequestParameters)
	paths.LearnCreate(c)
}

// StatePaths learns the paths of every user, group, role, managed policy
// and instance profile of an account's IAM state, and returns how many
// ARNs it read. The state's paths stand over what the logs show.
func StatePaths(a *iamstate.Account, paths *actionmap.Paths) int {
	n := 0
	learn := func(arn string) {
		if paths.LearnState(arn) {
			n++
		}
	}
	for _, u := range a.Users {
		learn(u.ARN)
	}
	for _, g := range a.Groups {
		learn(g.ARN)
	}
	for _, r := range a.Roles {
		learn(r.ARN)
		for _, ip := range r.InstanceProfiles {
			learn(ip.Arn)
		}
	}
	for _, p := range a.Policies {
		if !p.AWSManaged {
			learn(p.ARN)
		}
	}
	return n
}

// anyCall reports whether f holds for one of the calls aggregated.
func (a *Aggregator) anyCall(f func(*actionmap.Call) bool) bool {
	for _, p := range a.by {
		for _, c := range p.calls {
			if f(&c.call) {
				return true
			}
		}
	}
	return false
}
