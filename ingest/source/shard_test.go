package source

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// orgKeys is an organization trail's keys: accounts × regions × days, n
// objects a day at hours 1, 3, 5…, plus a digest folder and a stray file.
func orgKeys(accounts, regions, days, n int) []string {
	var keys []string
	regionNames := []string{"eu-west-1", "us-east-1", "us-west-2", "ap-south-1"}
	for a := 0; a < accounts; a++ {
		acct := fmt.Sprintf("%012d", 100000000000+int64(a))
		base := "AWSLogs/o-abcdefghij/" + acct + "/"
		keys = append(keys, base+"CloudTrail-Digest/us-east-1/2026/11/01/digest.json.gz")
		for r := 0; r < regions; r++ {
			region := regionNames[r]
			for d := 0; d < days; d++ {
				day := time.Date(2026, 10, 30, 0, 0, 0, 0, time.UTC).AddDate(0, 0, d)
				for i := 0; i < n; i++ {
					t := day.Add(time.Duration(1+2*i) * time.Hour)
					keys = append(keys, fmt.Sprintf("%sCloudTrail/%s/%s/%s_CloudTrail_%s_%s_x%d.json.gz",
						base, region, day.Format("2006/01/02"), acct, region, t.Format("20060102T1504Z"), i))
				}
			}
		}
	}
	keys = append(keys, "AWSLogs/o-abcdefghij/100000000000/CloudTrail/us-east-1/stray.json.gz")
	slices.Sort(keys)
	return keys
}

func walkKeys(t *testing.T, m lister, f Filter) []string {
	t.Helper()
	var out []string
	if err := discover(context.Background(), m, "", f, &Skipped{}, func(o Object) error {
		out = append(out, o.Key)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestShardsPartitionPrefixes: the shards of a bucket list each object
// once between them (their union is the whole bucket, and no two share
// one), each (account, day)'s regions go to one shard, and every shard
// gets some.
func TestShardsPartitionPrefixes(t *testing.T) {
	m := &memLister{keys: orgKeys(40, 3, 9, 2)}
	all := walkKeys(t, m, Filter{})
	for _, count := range []int{1, 2, 3, 16} {
		seen := map[string]int{}
		owner := map[string]int{} // account/day → shard
		for i := 0; i < count; i++ {
			keys := walkKeys(t, &memLister{keys: m.keys}, Filter{Shard: Shard{Index: i, Count: count}})
			if len(keys) == 0 {
				t.Errorf("shard %d/%d got nothing of %d objects", i, count, len(all))
			}
			for _, k := range keys {
				seen[k]++
				acct, _, _, _ := ParseKey(k)
				if _, rest, ok := strings.Cut(k, "/CloudTrail/"); ok {
					parts := strings.Split(rest, "/")
					if len(parts) == 5 {
						ad := acct + "/" + strings.Join(parts[1:4], "/")
						if o, ok := owner[ad]; ok && o != i {
							t.Errorf("%s: regions in shards %d and %d", ad, o, i)
						}
						owner[ad] = i
					}
				}
			}
		}
		if len(seen) != len(all) {
			t.Errorf("%d shards listed %d distinct objects, the whole bucket %d", count, len(seen), len(all))
		}
		for _, k := range all {
			if seen[k] != 1 {
				t.Errorf("%d shards: %s listed %d times", count, k, seen[k])
			}
		}
	}
}

// TestShardListsOnlyItsDays: a shard lists the object folders of its own
// (account, day)s and no other.
func TestShardListsOnlyItsDays(t *testing.T) {
	keys := orgKeys(8, 2, 6, 1)
	sh := Shard{Index: 1, Count: 4}
	m := &memLister{keys: keys}
	walkKeys(t, m, Filter{Shard: sh})
	n := 0
	for _, l := range m.listed {
		folder, ok := strings.CutPrefix(l, "objects ")
		if !ok {
			continue
		}
		n++
		acct, _, _, _ := ParseKey(folder)
		_, rest, _ := strings.Cut(folder, "/CloudTrail/")
		_, day, _ := strings.Cut(rest, "/")
		if !sh.Owns(acct, day) {
			t.Errorf("shard %s listed %s, another shard's", sh, folder)
		}
	}
	if want := 8 * 2 * 6; n == 0 || n >= want {
		t.Errorf("shard listed %d day folders of %d", n, want)
	}
}

func TestParseShard(t *testing.T) {
	for in, want := range map[string]string{"3/16": "3/16", "0/1": "", " 0 / 2 ": "0/2"} {
		s, err := ParseShard(in)
		if err != nil || s.String() != want {
			t.Errorf("ParseShard(%q) = %v, %v; want %q", in, s, err, want)
		}
	}
	for _, in := range []string{"16/16", "-1/4", "3", "a/b", "1/0", "3/16/2"} {
		if _, err := ParseShard(in); err == nil {
			t.Errorf("ParseShard(%q) took it", in)
		}
	}
}

// TestResumeListsFromCursor: with a region folder's cursor, the listing
// names the day folders from the cursor's day on (less the margin) and
// lists the first after the margin's start; other folders as before.
func TestResumeListsFromCursor(t *testing.T) {
	keys := orgKeys(1, 2, 40, 3) // 2026-10-30 … 2026-12-08, objects at 01:00, 03:00, 05:00
	region := "AWSLogs/o-abcdefghij/100000000000/CloudTrail/us-east-1/"
	var cursor string
	for _, k := range keys {
		if strings.HasPrefix(k, region+"2026/12/03/") {
			cursor = strings.TrimPrefix(k, region) // the last of that day: 05:00
		}
	}
	m := &memLister{keys: keys}
	got := walkKeys(t, m, Filter{Resume: map[string]string{region: cursor}, LateMargin: 90 * time.Minute})
	var inRegion []string
	for _, k := range got {
		if strings.HasPrefix(k, region) {
			inRegion = append(inRegion, strings.TrimPrefix(k, region))
		}
	}
	// From 03:30 on 12/03: its 05:00 object again (within the margin),
	// then 12/04 … 12/08, three a day; and the stray file outside the
	// date layout.
	if len(inRegion) != 1+5*3+1 || inRegion[0] != cursor || inRegion[16] != "stray.json.gz" {
		t.Errorf("listed in the resumed region: %v", inRegion)
	}
	var dayLists, regionWhole int
	for _, l := range m.listed {
		if strings.HasPrefix(l, "objects "+region) {
			dayLists++
			if strings.HasPrefix(l, "objects "+region+"2026/12/03/ after ") &&
				!strings.HasSuffix(l, "_CloudTrail_us-east-1_20261203T0330Z") {
				t.Errorf("resumed listing starts after the wrong key: %s", l)
			}
		}
		if l == "dirs "+region+"2026/10/" {
			regionWhole++
		}
	}
	if dayLists != 6 {
		t.Errorf("%d day folders listed in the resumed region, want 6:\n%s", dayLists, strings.Join(m.listed, "\n"))
	}
	if regionWhole != 0 {
		t.Error("the resumed region's months before the cursor were listed")
	}
	// The other region, without a cursor, is listed whole.
	if n := len(got) - len(inRegion); n != 40*3 {
		t.Errorf("%d objects outside the resumed region, want %d", n, 40*3)
	}
}

// TestResumeNamesRecentDays: with the cursor a day or two before Until,
// the day folders are named, not listed.
func TestResumeNamesRecentDays(t *testing.T) {
	keys := orgKeys(1, 1, 40, 3) // up to 2026-12-08
	region := "AWSLogs/o-abcdefghij/100000000000/CloudTrail/eu-west-1/"
	cursor := "2026/12/07/100000000000_CloudTrail_eu-west-1_20261207T0500Z_x2.json.gz"
	m := &memLister{keys: keys}
	got := walkKeys(t, m, Filter{Resume: map[string]string{region: cursor}, LateMargin: time.Hour,
		Until: time.Date(2026, 12, 9, 10, 0, 0, 0, time.UTC)})
	var dirs, objs []string
	for _, l := range m.listed {
		if strings.HasPrefix(l, "dirs "+region) {
			dirs = append(dirs, l)
		}
		if strings.HasPrefix(l, "objects "+region) {
			objs = append(objs, l)
		}
	}
	if len(dirs) != 0 || len(objs) != 3 { // 12/07 (after 04:00), 12/08, 12/09
		t.Errorf("listed %v and %v", dirs, objs)
	}
	if n := len(got); n != 1+3+1 { // the cursor's object again, 12/08's three, the stray file
		t.Errorf("%d objects: %v", n, got)
	}
}

// rangedLister is memLister with S3's StartAfter: a whole bucket's listing
// goes region folder by region folder.
type rangedLister struct{ *memLister }

func (rangedLister) ranged() bool { return true }

// TestRangedListingMatchesDayFolders: listing each region folder from a
// start key and merging them day by day gives the objects the day-folder
// listing gives, in the same order, with a LIST a region folder instead
// of one a day folder (and none to find the days).
func TestRangedListingMatchesDayFolders(t *testing.T) {
	keys := orgKeys(3, 3, 12, 2)
	cursor := "2026/11/05/100000000001_CloudTrail_us-east-1_20261105T0300Z_x1.json.gz"
	region := "AWSLogs/o-abcdefghij/100000000001/CloudTrail/us-east-1/"
	for _, f := range []Filter{
		{},
		{From: day("2026-11-02"), To: day("2026-11-04")},
		{From: day("2026-11-06")},
		{Regions: []string{"eu-west-1"}, Accounts: []string{"100000000002"}},
		{Resume: map[string]string{region: cursor}, LateMargin: 90 * time.Minute},
	} {
		byDay := &memLister{keys: keys}
		byRegion := rangedLister{&memLister{keys: keys}}
		want, got := walkKeys(t, byDay, f), walkKeys(t, byRegion, f)
		if !slices.Equal(got, want) {
			t.Errorf("%+v: by region folder %d objects, by day folder %d:\n%v\n%v", f, len(got), len(want), got, want)
		}
		count := func(m *memLister) (n int) {
			for _, l := range m.listed {
				if strings.HasPrefix(l, "objects ") {
					n++
				}
			}
			return n
		}
		if f.From.IsZero() && f.Resume == nil && count(byRegion.memLister) >= count(byDay)/4 {
			t.Errorf("%+v: %d LISTs by region folder, %d by day folder", f, count(byRegion.memLister), count(byDay))
		}
	}
}
