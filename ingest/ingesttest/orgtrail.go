package ingesttest

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/tidwall/gjson"
)

// OrgTrailOptions shape a simulated organization trail (OrgTrail).
type OrgTrailOptions struct {
	Org      string // o-… (default o-exampleorg1)
	Accounts int
	Regions  int // at most 8
	Days     int
	Start    time.Time // the first day (default 2026-11-01)
	// PerDay objects each (account, region, day), spread over the day;
	// Records in each.
	PerDay, Records int
	// FirstAccount is the number of the first account (account IDs are
	// 100000000000 + n).
	FirstAccount int64
}

// AccountID is the ID OrgTrail gives its account n.
func AccountID(n int64) string { return fmt.Sprintf("%012d", 100000000000+n) }

// Start0 is the first day, the default's when Start is zero.
func (o OrgTrailOptions) Start0() time.Time {
	if o.Start.IsZero() {
		return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	}
	return o.Start
}

// SampleAccount is the account of the bundled sample's records, which
// OrgTrail rewrites.
const SampleAccount = "123837392027"

var orgRegions = []string{"us-east-1", "eu-west-1", "us-west-2", "ap-southeast-2", "eu-central-1", "ap-northeast-1", "ca-central-1", "sa-east-1"}

// LoadSampleRecords returns the records of the CloudTrail files below dir
// (testdata/sample), as raw JSON, in file order.
func LoadSampleRecords(dir string) ([]string, error) {
	var recs []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".json.gz") {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(zr); err != nil {
			return fmt.Errorf("%s: %w", p, err)
		}
		RecordsArray(buf.Bytes()).ForEach(func(_, v gjson.Result) bool {
			recs = append(recs, v.Raw)
			return true
		})
		return nil
	})
	if err == nil && len(recs) == 0 {
		err = fmt.Errorf("no CloudTrail records below %s", dir)
	}
	return recs, err
}

// OrgTrail makes a simulated organization trail from real records: for
// each account, region and day, PerDay gzipped log files in CloudTrail's
// layout (AWSLogs/<org>/<account>/CloudTrail/<region>/YYYY/MM/DD/…), each
// of Records records taken in turn from recs with the sample's account
// replaced by the object's, the region by its region, a fresh eventID and
// a time within the file's slot of the day. put gets each key and body,
// in key order within each (account, region). Deterministic.
func OrgTrail(recs []string, o OrgTrailOptions, put func(key string, body []byte) error) error {
	if o.Org == "" {
		o.Org = "o-exampleorg1"
	}
	o.Start = o.Start0()
	if o.Regions > len(orgRegions) || o.Regions < 1 || o.PerDay < 1 || o.Records < 1 {
		return fmt.Errorf("org trail: regions 1 to %d, per-day and records at least 1", len(orgRegions))
	}
	next := 0
	var buf bytes.Buffer
	for a := 0; a < o.Accounts; a++ {
		acct := AccountID(o.FirstAccount + int64(a))
		for r := 0; r < o.Regions; r++ {
			region := orgRegions[r]
			for d := 0; d < o.Days; d++ {
				day := o.Start.AddDate(0, 0, d)
				slot := 24 * time.Hour / time.Duration(o.PerDay)
				for i := 0; i < o.PerDay; i++ {
					at := day.Add(time.Duration(i) * slot)
					key := fmt.Sprintf("AWSLogs/%s/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%s_%04d.json.gz",
						o.Org, acct, region, day.Format("2006/01/02"), acct, region, at.Format("20060102T1504Z"), i)
					buf.Reset()
					zw := gzip.NewWriter(&buf)
					zw.Write([]byte(`{"Records":[`))
					for j := 0; j < o.Records; j++ {
						if j > 0 {
							zw.Write([]byte(","))
						}
						rec := recs[next%len(recs)]
						next++
						h := sha256.Sum256(fmt.Appendf(nil, "%s|%d|%d|%d", key, j, next, len(rec)))
						id := fmt.Sprintf("%x-%x-%x-%x-%x", h[0:4], h[4:6], h[6:8], h[8:10], h[10:16])
						t := at.Add(time.Duration(j) * slot / time.Duration(o.Records)).Format(time.RFC3339)
						rec = strings.ReplaceAll(rec, SampleAccount, acct)
						rec = replaceString(rec, "eventID", id)
						rec = replaceString(rec, "eventTime", t)
						rec = replaceString(rec, "awsRegion", region)
						zw.Write([]byte(rec))
					}
					zw.Write([]byte("]}"))
					if err := zw.Close(); err != nil {
						return err
					}
					if err := put(key, slices.Clone(buf.Bytes())); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// replaceString sets a top-level string member of a record's JSON.
func replaceString(rec, name, value string) string {
	v := gjson.Get(rec, name)
	if !v.Exists() || v.Type != gjson.String {
		return rec
	}
	return rec[:v.Index] + `"` + value + `"` + rec[v.Index+len(v.Raw):]
}
