package policygen

import (
	"fmt"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// patternGroup is one Resource entry and the ARNs seen that it covers.
type patternGroup struct {
	pattern string
	members []string
	why     string
}

func exactGroups(arns []string) []patternGroup {
	out := make([]patternGroup, 0, len(arns))
	for _, a := range uniqueSorted(arns) {
		out = append(out, patternGroup{pattern: a, members: []string{a}})
	}
	return out
}

func uniqueSorted(xs []string) []string {
	s := append([]string(nil), xs...)
	sort.Strings(s)
	out := s[:0]
	for i, x := range s {
		if i == 0 || x != s[i-1] {
			out = append(out, x)
		}
	}
	return out
}

func isS3Object(a arn.ARN) bool {
	return a.Service == "s3" && a.Region == "" && a.AccountID == "" && strings.Contains(a.Resource, "/")
}

// withResource is a with its resource part replaced.
func withResource(a arn.ARN, resource string) string {
	a.Resource = resource
	return a.String()
}

// serviceGroups keeps each ARN's service, region, account and resource type
// and replaces the name with "*": role/*, function:*, and for S3 "*" for
// buckets and "*/*" for objects.
func serviceGroups(arns []string) []patternGroup {
	by := map[string][]string{}
	for _, a := range uniqueSorted(arns) {
		parsed, err := arn.Parse(a)
		if err != nil {
			by[a] = append(by[a], a)
			continue
		}
		res := parsed.Resource
		var pat string
		switch {
		case isS3Object(parsed):
			pat = "*/*"
		case strings.ContainsAny(res, "/:"):
			i := strings.IndexAny(res, "/:")
			pat = res[:i+1] + "*"
		default:
			pat = "*"
		}
		p := withResource(parsed, pat)
		by[p] = append(by[p], a)
	}
	return groupsOf(by, "every name of this resource type in this account and region (service mode)")
}

func groupsOf(by map[string][]string, why string) []patternGroup {
	out := make([]patternGroup, 0, len(by))
	for p, ms := range by {
		g := patternGroup{pattern: p, members: ms}
		if len(ms) != 1 || ms[0] != p {
			g.why = why
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].pattern < out[j].pattern })
	return out
}

// prefixGroups collapses, when a set has more than k members: S3 object
// keys of one bucket to the deepest '/'-prefixes that leave at most k
// entries; other ARNs that differ in exactly one segment to one pattern
// holding that segment's common prefix and suffix around a "*".
func prefixGroups(arns []string, k int) []patternGroup {
	arns = uniqueSorted(arns)
	objects := map[string][]string{} // bucket ARN prefix → keys
	var others []string
	for _, a := range arns {
		if parsed, err := arn.Parse(a); err == nil && isS3Object(parsed) {
			bucket, key, _ := strings.Cut(parsed.Resource, "/")
			p := withResource(parsed, bucket+"/")
			objects[p] = append(objects[p], key)
			continue
		}
		others = append(others, a)
	}
	var out []patternGroup
	for bucket, keys := range objects {
		for _, g := range collapseKeys(keys, k) {
			g.pattern = bucket + g.pattern
			for i, m := range g.members {
				g.members[i] = bucket + m
			}
			out = append(out, g)
		}
	}
	out = append(out, collapseSegments(others, k, k <= 1)...)
	sort.Slice(out, func(i, j int) bool { return out[i].pattern < out[j].pattern })
	return out
}

// collapseKeys picks the deepest directory depth d such that replacing
// every key with at least d directories by its first d directories + "/*"
// leaves at most k entries (d = 0 is the whole bucket, "*").
func collapseKeys(keys []string, k int) []patternGroup {
	if len(keys) <= k {
		by := map[string][]string{}
		for _, key := range keys {
			by[key] = []string{key}
		}
		return groupsOf(by, "")
	}
	maxDepth := 0
	for _, key := range keys {
		maxDepth = max(maxDepth, strings.Count(key, "/"))
	}
	for d := maxDepth; d >= 0; d-- {
		by := map[string][]string{}
		for _, key := range keys {
			p := key
			switch {
			case d == 0:
				p = "*"
			case strings.Count(key, "/") >= d:
				parts := strings.SplitN(key, "/", d+1)
				p = strings.Join(parts[:d], "/") + "/*"
			}
			by[p] = append(by[p], key)
		}
		if len(by) <= k || d == 0 {
			gs := groupsOf(by, "")
			for i := range gs {
				if len(gs[i].members) == 1 && gs[i].members[0] == gs[i].pattern {
					continue
				}
				if gs[i].pattern == "*" {
					gs[i].why = fmt.Sprintf("%d objects with no common prefix in this bucket", len(gs[i].members))
				} else {
					gs[i].why = fmt.Sprintf("%d objects under the deepest common prefix %q", len(gs[i].members), strings.TrimSuffix(gs[i].pattern, "*"))
				}
			}
			return gs
		}
	}
	return nil
}

// tokens splits an ARN into fields at ':' and '/', keeping the separators
// in seps so that the ARN can be rebuilt.
func tokens(arn string) (toks []string, seps []byte) {
	start := 0
	for i := 0; i < len(arn); i++ {
		if arn[i] == ':' || arn[i] == '/' {
			toks = append(toks, arn[start:i])
			seps = append(seps, arn[i])
			start = i + 1
		}
	}
	return append(toks, arn[start:]), seps
}

// collapseSegments merges groups of more than k ARNs that are equal except
// in one field (the region, the account or a name part; never the
// partition or service), trying the last field first.
//
// A pattern without a common prefix ("*" or "*-suffix") is written only
// when bare is set (the set is over MaxResources even after collapsing).
func collapseSegments(arns []string, k int, bare bool) []patternGroup {
	type item struct {
		toks []string
		seps []byte
	}
	remaining := map[string]item{}
	for _, a := range arns {
		t, s := tokens(a)
		remaining[a] = item{t, s}
	}
	var out []patternGroup
	shape := func(it item) string { return fmt.Sprintf("%d/%s", len(it.toks), it.seps) }
	maxTok := 0
	for _, it := range remaining {
		maxTok = max(maxTok, len(it.toks))
	}
	for pos := maxTok - 1; pos >= 3; pos-- {
		groups := map[string][]string{}
		for a, it := range remaining {
			if pos >= len(it.toks) || !arn.IsARN(a) {
				continue
			}
			rest := append([]string(nil), it.toks...)
			rest[pos] = "\x00"
			key := shape(it) + "\x01" + strings.Join(rest, "\x01")
			groups[key] = append(groups[key], a)
		}
		keys := make([]string, 0, len(groups))
		for key := range groups {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			ms := groups[key]
			if len(ms) <= k {
				continue
			}
			sort.Strings(ms)
			vals := make([]string, len(ms))
			for i, m := range ms {
				vals[i] = remaining[m].toks[pos]
			}
			it := remaining[ms[0]]
			toks := append([]string(nil), it.toks...)
			toks[pos] = commonGlob(vals)
			if strings.HasPrefix(toks[pos], "*") && !bare {
				continue
			}
			var b strings.Builder
			for i, t := range toks {
				b.WriteString(t)
				if i < len(it.seps) {
					b.WriteByte(it.seps[i])
				}
			}
			out = append(out, patternGroup{pattern: b.String(), members: ms,
				why: fmt.Sprintf("%d ARNs that differ only in field %d (%s)", len(ms), pos+1, strings.Join(first(vals, 3), ", "))})
			for _, m := range ms {
				delete(remaining, m)
			}
		}
	}
	for a := range remaining {
		out = append(out, patternGroup{pattern: a, members: []string{a}})
	}
	return out
}

// commonGlob returns the tightest single-"*" glob over vals: their common
// prefix, "*", their common suffix.
func commonGlob(vals []string) string {
	pre := vals[0]
	for _, v := range vals[1:] {
		for !strings.HasPrefix(v, pre) {
			pre = pre[:len(pre)-1]
		}
	}
	suf := vals[0][len(pre):]
	for _, v := range vals[1:] {
		for !strings.HasSuffix(v[len(pre):], suf) {
			suf = suf[1:]
		}
	}
	return pre + "*" + suf
}
