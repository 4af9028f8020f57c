package actionmap

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/policygen/catalog"
)

func sharedDev(t testing.TB) string {
	dir, _ := os.Getwd()
	for {
		p := filepath.Join(dir, "shared", "data", "cloudtrail", "dev")
		if _, err := os.Stat(p); err == nil {
			return p
		}
		if filepath.Dir(dir) == dir {
			t.Skip("shared/data not found")
		}
		dir = filepath.Dir(dir)
	}
}

type devRecord struct {
	where string
	rec   gjson.Result
}

// devRecords returns every record of the real logs under shared/data/cloudtrail/dev.
func devRecords(t testing.TB) []devRecord {
	root := sharedDev(t)
	var out []devRecord
	addDoc := func(where string, data []byte) {
		doc := gjson.ParseBytes(data)
		switch {
		case doc.Get("Records").IsArray():
			doc.Get("Records").ForEach(func(_, r gjson.Result) bool { out = append(out, devRecord{where, r}); return true })
		case doc.IsArray():
			doc.ForEach(func(_, r gjson.Result) bool { out = append(out, devRecord{where, r}); return true })
		case doc.Get("event").IsObject():
			out = append(out, devRecord{where, doc.Get("event")})
		case doc.Get("eventName").Exists():
			out = append(out, devRecord{where, doc})
		}
	}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		switch {
		case strings.HasSuffix(p, ".json.gz"):
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				return err
			}
			b, err := io.ReadAll(zr)
			if err != nil {
				return err
			}
			addDoc(rel, b)
		case strings.HasSuffix(p, ".jsonl"):
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			defer f.Close()
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 1<<20), 16<<20)
			for sc.Scan() {
				addDoc(rel, append([]byte(nil), sc.Bytes()...))
			}
		case strings.HasSuffix(p, ".json") || strings.HasSuffix(p, ".cloudtrail"):
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if json.Valid(b) {
				addDoc(rel, b)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var deniedAction = regexp.MustCompile(`(?:not authorized to perform|no identity-based policy allows the|not authorized to call):? ([a-z0-9-]+:[A-Za-z0-9]+)`)

// TestAccessDeniedOracle: a denied call's errorMessage names the action AWS
// checked. Every such event in the real logs is a test case; the mapping
// must agree on at least 99% of them. Messages naming an action that does
// not exist (sanitised samples say "iam:Action") are not oracles.
func TestAccessDeniedOracle(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := New(cat)
	var agree, total, notOracle int
	var disagreements []string
	for _, dr := range devRecords(t) {
		msg := dr.rec.Get("errorMessage").Str
		mm := deniedAction.FindStringSubmatch(msg)
		if mm == nil || !IsDenied(dr.rec.Get("errorCode").Str) {
			continue
		}
		if _, ok := cat.Action(mm[1]); !ok {
			notOracle++
			continue
		}
		total++
		c := CallFromRecord(dr.rec)
		res := m.Map(&c)
		var got []string
		for _, a := range res.Actions {
			got = append(got, a.Name)
		}
		if slices.ContainsFunc(got, func(a string) bool { return strings.EqualFold(a, mm[1]) }) {
			agree++
		} else {
			disagreements = append(disagreements, dr.where+" "+c.EventSource+" "+c.EventName+": AWS checked "+mm[1]+", iamlens says "+strings.Join(got, ",")+" "+res.Reason)
		}
	}
	sort.Strings(disagreements)
	for _, d := range disagreements {
		t.Log("disagree:", d)
	}
	t.Logf("AccessDenied oracle: %d of %d agree (%d messages name no real action)", agree, total, notOracle)
	if total < 150 {
		t.Fatalf("only %d oracle events found: the data set is not being read", total)
	}
	if float64(agree) < 0.99*float64(total) {
		t.Fatalf("agreement %d/%d is below 99%%", agree, total)
	}
}

// TestEveryEmittedActionExists maps every record of the real logs and checks
// each action and resource against the catalogue; it also shows what could
// not be mapped, by eventSource and eventName.
func TestEveryEmittedActionExists(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	m := New(cat)
	tally := NewTally()
	n := 0
	for _, dr := range devRecords(t) {
		c := CallFromRecord(dr.rec)
		res := m.Map(&c)
		tally.Add(&c, res)
		n++
		for _, a := range res.Actions {
			if _, ok := cat.Action(a.Name); !ok {
				t.Errorf("%s: emitted %s, which is not in the catalogue", dr.where, a.Name)
			}
			for _, arn := range a.Resources {
				if !cat.MatchesResource(a.Name, arn) {
					t.Errorf("%s: %s on %s does not fit the action's resource types", dr.where, a.Name, arn)
				}
			}
		}
	}
	for _, u := range tally.Unmapped() {
		t.Logf("unmapped: %s %s ×%d: %s", u.EventSource, u.EventName, u.Count, u.Reason)
	}
	t.Logf("%d records: %v", n, tally.Counts())
	if tally.Counts()[Mapped] < n*8/10 {
		t.Errorf("only %d of %d records mapped", tally.Counts()[Mapped], n)
	}
}
