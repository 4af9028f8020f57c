// Package source says where CloudTrail log files come from: a local folder
// (Dir) or an S3 bucket (S3). Both understand CloudTrail's key layout, so the
// --account, --region, --from and --to filters become listing prefixes and a
// year-old bucket is not listed whole to ingest one week:
//
//	[prefix/]AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
//	[prefix/]AWSLogs/<org-id>/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
//
// A folder without that layout is walked whole. Both sources stream objects
// as io.ReadCloser; neither reads a whole object into memory.
package source

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Object is one listed object.
type Object struct {
	// Key is the object key (S3) or the slash-separated path below the root (Dir).
	Key string
	// Size in bytes as stored (compressed).
	Size int64
	// ETag identifies the content: the S3 ETag, or size and modification time for files.
	ETag string
	// Account and Region come from the key layout; empty when the key has no layout.
	Account string
	Region  string
	// OrgID is set for organization-trail keys.
	OrgID string
	// Named is set when the user named this very file: it is read
	// whatever its name (a folder's files are chosen by name).
	Named bool
}

// Filter narrows a listing. Zero values mean "all".
type Filter struct {
	Accounts []string
	Regions  []string
	// From and To select delivery-date folders, inclusive, by UTC date.
	From, To time.Time
	// Shard, when its Count is over 1, keeps this worker's share of the
	// (account, day) folders.
	Shard Shard
	// Resume makes a listing incremental: for a region folder
	// ("…/CloudTrail/<region>/", as the source names it) it holds the
	// "YYYY/MM/DD/<file>" of the last object ingested from it, and the
	// folder is listed from LateMargin before that (day folders by name,
	// then StartAfter) instead of whole.
	Resume map[string]string
	// LateMargin is how far before a Resume cursor listing starts, for
	// objects delivered late.
	LateMargin time.Duration
	// Until, when set, is the last day a resumed region folder may have
	// (today): when it is at most resumeNamedDays after the cursor's,
	// the day folders between are named, not found by listing the
	// folder's years, months and days.
	Until time.Time
}

// resumeNamedDays is the longest span of days a resumed listing names
// instead of listing the year, month and day folders (three LISTs a
// region folder): a run every hour or day names one or two.
const resumeNamedDays = 7

// Skipped counts what a listing passed over on purpose.
type Skipped struct {
	// Folders lists the folders skipped by name (CloudTrail-Digest, CloudTrail-Insight, ...).
	Folders []string
}

// lister is the small listing surface a backend provides; discovery is
// written once on top of it.
type lister interface {
	// dirs returns the immediate sub-folders of prefix, each ending in "/",
	// sorted, and the objects directly in prefix.
	dirs(ctx context.Context, prefix string) ([]string, []Object, error)
	// objects calls fn for every object below prefix whose key sorts
	// after startAfter (all when ""), in key order.
	objects(ctx context.Context, prefix, startAfter string, fn func(Object) error) error
}

var (
	accountRe = regexp.MustCompile(`^\d{12}$`)
	orgRe     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	keyRe     = regexp.MustCompile(`(?:^|/)AWSLogs/(?:(o-[a-z0-9]{10,32})/)?(\d{12})/CloudTrail(?:-[A-Za-z]+)?/([a-z0-9-]+)/`)
)

// ParseKey extracts the account, region and organization ID from a key in
// CloudTrail's layout. ok is false for keys without the layout.
func ParseKey(key string) (account, region, orgID string, ok bool) {
	m := keyRe.FindStringSubmatch(key)
	if m == nil {
		return "", "", "", false
	}
	return m[2], m[3], m[1], true
}

// discover walks root in CloudTrail's layout, listing only the prefixes that
// f selects, and falls back to listing everything below root.
//
// Within an account, delivery days come out in order and each day's regions
// together (rather than region after region): an account's day is one
// partition of the dataset, so ingest then finishes a partition before it
// starts the next, and its dedup set and identity cache stay warm. The
// account's folders in an organization trail and in its own trail are
// walked together for the same reason: their events overlap.
func discover(ctx context.Context, l lister, root string, f Filter, sk *Skipped, fn func(Object) error) error {
	emit := func(o Object) error {
		o.Account, o.Region, o.OrgID, _ = ParseKey(o.Key)
		return fn(o)
	}
	base, ok, err := findAWSLogs(ctx, l, root)
	if err != nil {
		return err
	}
	if !ok {
		return l.objects(ctx, root, "", func(o Object) error {
			if !f.Shard.Owns("", o.Key) {
				return nil
			}
			return emit(o)
		})
	}
	top, _, err := l.dirs(ctx, base)
	if err != nil {
		return err
	}
	byAccount := map[string][]string{}
	var accounts []string
	addAccount := func(d string) {
		name := lastSegment(d)
		if len(f.Accounts) > 0 && !slices.Contains(f.Accounts, name) {
			return
		}
		if _, ok := byAccount[name]; !ok {
			accounts = append(accounts, name)
		}
		byAccount[name] = append(byAccount[name], d)
	}
	for _, d := range top {
		name := lastSegment(d)
		switch {
		case accountRe.MatchString(name):
			addAccount(d)
		case orgRe.MatchString(name):
			sub, _, err := l.dirs(ctx, d)
			if err != nil {
				return err
			}
			for _, s := range sub {
				if accountRe.MatchString(lastSegment(s)) {
					addAccount(s)
				}
			}
		}
	}
	slices.Sort(accounts)
	for _, acct := range accounts {
		if err := discoverAccount(ctx, l, acct, byAccount[acct], f, sk, emit); err != nil {
			return err
		}
	}
	return nil
}

// discoverAccount lists one account's log folders day by day.
func discoverAccount(ctx context.Context, l lister, account string, accountDirs []string, f Filter, sk *Skipped, emit func(Object) error) error {
	days := map[string][]string{} // YYYY/MM/DD → day folders of every region
	after := map[string]string{}  // day folder → the key to list after (Resume)
	var other []string            // folders outside the date layout, listed whole at the end
	var loose []Object            // objects outside any day folder
	// A whole bucket's listing on S3 lists each region folder's keys,
	// from where the window or the cursor starts, a page of 1,000 at a
	// time, instead of finding its day folders (three delimiter LISTs) and
	// listing each (a LIST for a few hundred keys at most): the region
	// folders' listings are merged day by day (mergeRegions). A shard's
	// listing names its own days instead: the region folders hold
	// Count times more keys than it reads.
	var ranged []regionSpan
	if rl, ok := l.(rangeLister); ok && rl.ranged() && f.Shard.Count <= 1 {
		ranged = []regionSpan{}
	}
	for _, ad := range accountDirs {
		kinds, _, err := l.dirs(ctx, ad)
		if err != nil {
			return err
		}
		for _, k := range kinds {
			if lastSegment(k) != "CloudTrail" {
				sk.Folders = append(sk.Folders, k)
				continue
			}
			regions, files, err := l.dirs(ctx, k)
			if err != nil {
				return err
			}
			loose = append(loose, files...)
			for _, rd := range regions {
				if len(f.Regions) > 0 && !slices.Contains(f.Regions, lastSegment(rd)) {
					continue
				}
				if ranged != nil {
					ranged = append(ranged, regionRange(rd, f))
					continue
				}
				rf := f
				if c, ok := f.Resume[rd]; ok {
					if fromDay, startAfter, ok := resumeFrom(c, f.LateMargin); ok {
						from, _ := time.Parse("2006/01/02/", fromDay)
						if from.After(rf.From) {
							rf.From = from
						}
						if startAfter != "" && from.Equal(rf.From) {
							after[rd+fromDay] = rd + startAfter
						}
						if until := f.Until.UTC().Truncate(24 * time.Hour); rf.To.IsZero() && !f.Until.IsZero() &&
							!until.Before(rf.From) && until.Sub(rf.From) <= resumeNamedDays*24*time.Hour {
							rf.To = until
						}
					}
				}
				if err := regionDays(ctx, l, rd, rf, days, &other, &loose); err != nil {
					return err
				}
			}
		}
	}
	if ranged != nil {
		if err := mergeRegions(ctx, l, ranged, emit); err != nil {
			return err
		}
	}
	order := make([]string, 0, len(days))
	for d := range days {
		if f.Shard.Owns(account, d) {
			order = append(order, d)
		}
	}
	slices.Sort(order)
	var folders []string // day by day, then the folders outside the layout
	for _, d := range order {
		slices.Sort(days[d])
		folders = append(folders, days[d]...)
	}
	// Folders and objects outside the date layout go to the shard of
	// their name.
	for _, o := range other {
		if f.Shard.Owns(account, o) {
			folders = append(folders, o)
		}
	}
	for _, p := range folders {
		if err := l.objects(ctx, p, after[p], emit); err != nil {
			return err
		}
	}
	for _, o := range loose {
		if !f.Shard.Owns(account, o.Key) {
			continue
		}
		if err := emit(o); err != nil {
			return err
		}
	}
	return nil
}

// regionDays adds a region's day folders to days. With both date bounds the
// folders are named without listing; otherwise the YYYY/MM/DD levels are
// listed (one small delimiter listing per year and month) and filtered by
// whichever bound is set. Folders that do not fit the date layout go to
// other and objects found on the way to loose, so nothing is passed over.
func regionDays(ctx context.Context, l lister, region string, f Filter, days map[string][]string, other *[]string, loose *[]Object) error {
	if !f.From.IsZero() && !f.To.IsZero() {
		for _, p := range datePrefixes(region, f.From, f.To) {
			d := strings.TrimPrefix(p, region)
			days[d] = append(days[d], p)
		}
		return nil
	}
	var fromDay, toDay string
	if !f.From.IsZero() {
		fromDay = f.From.UTC().Format("2006/01/02/")
	}
	if !f.To.IsZero() {
		toDay = f.To.UTC().Format("2006/01/02/")
	}
	var walk func(prefix string, level int) error
	walk = func(prefix string, level int) error {
		subs, files, err := l.dirs(ctx, prefix)
		if err != nil {
			return err
		}
		*loose = append(*loose, files...)
		width := []int{4, 2, 2}[level]
		for _, s := range subs {
			if !isDigits(lastSegment(s), width) {
				*other = append(*other, s)
				continue
			}
			if level < 2 {
				// A year or month wholly outside the window is not listed.
				d := strings.TrimPrefix(s, region)
				if (fromDay != "" && d < fromDay[:len(d)]) || (toDay != "" && d > toDay[:len(d)]) {
					continue
				}
				if err := walk(s, level+1); err != nil {
					return err
				}
				continue
			}
			d := strings.TrimPrefix(s, region)
			if (fromDay != "" && d < fromDay) || (toDay != "" && d > toDay) {
				continue
			}
			days[d] = append(days[d], s)
		}
		return nil
	}
	return walk(region, 0)
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < n; i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// findAWSLogs returns the "…/AWSLogs/" folder at or directly below root.
func findAWSLogs(ctx context.Context, l lister, root string) (string, bool, error) {
	if root == "AWSLogs/" || strings.HasSuffix(root, "/AWSLogs/") {
		return root, true, nil
	}
	ds, _, err := l.dirs(ctx, root)
	if err != nil {
		return "", false, err
	}
	for _, d := range ds {
		if lastSegment(d) == "AWSLogs" {
			return d, true, nil
		}
	}
	return "", false, nil
}

// datePrefixes returns the YYYY/MM/DD/ prefixes below a region folder for the
// days from..to, or the region folder itself when no dates are given. With
// only one bound, the other is open: months and years are listed whole up to
// the bound's own month, which keeps the listing small without a day-by-day
// walk of a decade.
func datePrefixes(region string, from, to time.Time) []string {
	if from.IsZero() && to.IsZero() {
		return []string{region}
	}
	if from.IsZero() || to.IsZero() {
		// One-sided windows are rare; list the region and let the caller
		// drop rows outside the window if it wants to.
		return []string{region}
	}
	from = from.UTC().Truncate(24 * time.Hour)
	to = to.UTC()
	var out []string
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		out = append(out, fmt.Sprintf("%s%04d/%02d/%02d/", region, d.Year(), d.Month(), d.Day()))
	}
	return out
}

func lastSegment(dir string) string {
	s := strings.TrimSuffix(dir, "/")
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}
