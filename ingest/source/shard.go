package source

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Shard is one worker's share of a bucket: of the bucket's (account, day)
// folders, those whose hash modulo Count is Index. Count workers, each
// with its own Index from 0 to Count-1, split a bucket with no
// coordination: every (account, region, day) prefix belongs to exactly one
// of them. The hash is over the account and the day, not the region, so
// that the regions of one account's day (one partition of the dataset) go
// to the same worker, and two workers rarely write the same partition.
// The zero Shard (Count 0 or 1) is the whole bucket.
type Shard struct{ Index, Count int }

// ParseShard reads "INDEX/COUNT", e.g. "3/16"; INDEX counts from 0, as AWS
// Batch's AWS_BATCH_JOB_ARRAY_INDEX does.
func ParseShard(s string) (Shard, error) {
	i, n, ok := strings.Cut(s, "/")
	index, err1 := strconv.Atoi(strings.TrimSpace(i))
	count, err2 := strconv.Atoi(strings.TrimSpace(n))
	switch {
	case !ok || err1 != nil || err2 != nil:
		return Shard{}, fmt.Errorf("%q is not INDEX/COUNT (e.g. 3/16)", s)
	case count < 1 || count > 1<<16:
		return Shard{}, fmt.Errorf("%q: COUNT must be from 1 to 65536", s)
	case index < 0 || index >= count:
		return Shard{}, fmt.Errorf("%q: INDEX counts from 0, so it must be from 0 to %d", s, count-1)
	}
	return Shard{Index: index, Count: count}, nil
}

// String is "INDEX/COUNT", "" for the whole bucket.
func (s Shard) String() string {
	if s.Count <= 1 {
		return ""
	}
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Owns reports whether the folder of account's day (YYYY/MM/DD, or any
// other name of a folder or key outside the date layout) is this shard's.
func (s Shard) Owns(account, day string) bool {
	if s.Count <= 1 {
		return true
	}
	h := fnv.New64a()
	h.Write([]byte(account))
	h.Write([]byte{0})
	h.Write([]byte(strings.TrimSuffix(day, "/")))
	return h.Sum64()%uint64(s.Count) == uint64(s.Index)
}

// fileTime finds the timestamp CloudTrail puts in a log file's name
// (<account>_CloudTrail_<region>_20261104T1035Z_<id>.json.gz).
var fileTime = regexp.MustCompile(`_(\d{8}T\d{4}Z)_`)

// resumeFrom turns a region folder's cursor (the "YYYY/MM/DD/<file>" of
// the last object ingested from it) into where an incremental listing
// starts: the first day folder to list ("YYYY/MM/DD/") and, within it, the
// key to list after (StartAfter, relative to the region folder; "" for the
// whole day). Keys of a region folder sort by day, then by the time in
// the file's name, so starting margin before the cursor's time lists what
// was delivered since, and what arrived late up to margin.
func resumeFrom(cursor string, margin time.Duration) (fromDay, after string, ok bool) {
	parts := strings.SplitN(cursor, "/", 4)
	if len(parts) != 4 {
		return "", "", false
	}
	day, err := time.Parse("2006/01/02", strings.Join(parts[:3], "/"))
	if err != nil {
		return "", "", false
	}
	name := parts[3]
	m := fileTime.FindStringSubmatchIndex(name)
	if m == nil {
		// No time in the name: whole days, as many as the margin spans.
		days := int((margin + 24*time.Hour - 1) / (24 * time.Hour))
		return day.AddDate(0, 0, -days).Format("2006/01/02/"), "", true
	}
	t, err := time.Parse("20060102T1504Z", name[m[2]:m[3]])
	if err != nil {
		return "", "", false
	}
	start := t.Add(-margin).UTC()
	if end := day.Add(24*time.Hour - time.Minute); start.After(end) {
		start = end // a name at odds with its folder: the folder's day
	}
	fromDay = start.Format("2006/01/02/")
	return fromDay, fromDay + name[:m[2]] + start.Format("20060102T1504Z"), true
}
