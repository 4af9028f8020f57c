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
}

// Filter narrows a listing. Zero values mean "all".
type Filter struct {
	Accounts []string
	Regions  []string
	// From and To select delivery-date folders, inclusive, by UTC date.
	From, To time.Time
}

// Skipped counts what a listing passed over on purpose.
type Skipped struct {
	// Folders lists the folders skipped by name (CloudTrail-Digest, CloudTrail-Insight, ...).
	Folders []string
}

// lister is the small listing surface a backend provides; discovery is
// written once on top of it.
type lister interface {
	// dirs returns the immediate sub-folders of prefix, each ending in "/", sorted.
	dirs(ctx context.Context, prefix string) ([]string, error)
	// objects calls fn for every object below prefix, in key order.
	objects(ctx context.Context, prefix string, fn func(Object) error) error
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
		return l.objects(ctx, root, emit)
	}
	top, err := l.dirs(ctx, base)
	if err != nil {
		return err
	}
	var accountDirs []string
	for _, d := range top {
		name := lastSegment(d)
		switch {
		case accountRe.MatchString(name):
			accountDirs = append(accountDirs, d)
		case orgRe.MatchString(name):
			sub, err := l.dirs(ctx, d)
			if err != nil {
				return err
			}
			for _, s := range sub {
				if accountRe.MatchString(lastSegment(s)) {
					accountDirs = append(accountDirs, s)
				}
			}
		}
	}
	for _, ad := range accountDirs {
		if len(f.Accounts) > 0 && !slices.Contains(f.Accounts, lastSegment(ad)) {
			continue
		}
		kinds, err := l.dirs(ctx, ad)
		if err != nil {
			return err
		}
		for _, k := range kinds {
			if lastSegment(k) != "CloudTrail" {
				sk.Folders = append(sk.Folders, k)
				continue
			}
			regions, err := l.dirs(ctx, k)
			if err != nil {
				return err
			}
			for _, rd := range regions {
				if len(f.Regions) > 0 && !slices.Contains(f.Regions, lastSegment(rd)) {
					continue
				}
				for _, p := range datePrefixes(rd, f.From, f.To) {
					if err := l.objects(ctx, p, emit); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// findAWSLogs returns the "…/AWSLogs/" folder at or directly below root.
func findAWSLogs(ctx context.Context, l lister, root string) (string, bool, error) {
	if root == "AWSLogs/" || strings.HasSuffix(root, "/AWSLogs/") {
		return root, true, nil
	}
	ds, err := l.dirs(ctx, root)
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
