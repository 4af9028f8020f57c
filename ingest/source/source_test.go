package source

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// memLister is an in-memory bucket that records every prefix listed.
type memLister struct {
	keys   []string
	listed []string
}

func (m *memLister) dirs(_ context.Context, prefix string) ([]string, []Object, error) {
	m.listed = append(m.listed, "dirs "+prefix)
	set := map[string]bool{}
	var files []Object
	for _, k := range m.keys {
		if rest, ok := strings.CutPrefix(k, prefix); ok {
			if i := strings.IndexByte(rest, '/'); i >= 0 {
				set[prefix+rest[:i+1]] = true
			} else {
				files = append(files, Object{Key: k})
			}
		}
	}
	var out []string
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out, files, nil
}

func (m *memLister) objects(_ context.Context, prefix, startAfter string, fn func(Object) error) error {
	if startAfter != "" {
		m.listed = append(m.listed, "objects "+prefix+" after "+startAfter)
	} else {
		m.listed = append(m.listed, "objects "+prefix)
	}
	for _, k := range m.keys {
		if strings.HasPrefix(k, prefix) && k > startAfter {
			if err := fn(Object{Key: k}); err != nil {
				return err
			}
		}
	}
	return nil
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestDiscoverListsOnlySelectedPrefixes(t *testing.T) {
	var keys []string
	for _, acct := range []string{"111111111111", "222222222222"} {
		for _, region := range []string{"us-east-1", "eu-west-1"} {
			for d := 1; d <= 30; d++ {
				keys = append(keys,
					fmt.Sprintf("logs/AWSLogs/%s/CloudTrail/%s/2026/11/%02d/f.json.gz", acct, region, d),
					fmt.Sprintf("logs/AWSLogs/o-abcdefghij/%s/CloudTrail/%s/2026/11/%02d/g.json.gz", acct, region, d))
			}
		}
		keys = append(keys, "logs/AWSLogs/"+acct+"/CloudTrail-Digest/us-east-1/2026/11/01/d.json.gz")
	}
	sort.Strings(keys)

	tests := []struct {
		name       string
		f          Filter
		wantKeys   int
		wantListed []string // every objects-listing must start with one of these
	}{
		{"all", Filter{}, 240, nil},
		{"one account", Filter{Accounts: []string{"222222222222"}}, 120, []string{"objects logs/AWSLogs/222222222222/", "objects logs/AWSLogs/o-abcdefghij/222222222222/"}},
		{"one region one week", Filter{Regions: []string{"eu-west-1"}, From: day("2026-11-03"), To: day("2026-11-09")}, 2 * 2 * 7,
			[]string{"objects logs/AWSLogs/111111111111/CloudTrail/eu-west-1/2026/11/0", "objects logs/AWSLogs/222222222222/CloudTrail/eu-west-1/2026/11/0", "objects logs/AWSLogs/o-abcdefghij/111111111111/CloudTrail/eu-west-1/2026/11/0", "objects logs/AWSLogs/o-abcdefghij/222222222222/CloudTrail/eu-west-1/2026/11/0"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := &memLister{keys: keys}
			var sk Skipped
			var got []Object
			err := discover(context.Background(), m, "logs/", tt.f, &sk, func(o Object) error {
				got = append(got, o)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.wantKeys {
				t.Fatalf("got %d keys, want %d", len(got), tt.wantKeys)
			}
			for _, o := range got {
				if o.Account == "" || o.Region == "" {
					t.Errorf("%s: account/region not parsed", o.Key)
				}
				if strings.Contains(o.Key, "/o-abcdefghij/") && o.OrgID != "o-abcdefghij" {
					t.Errorf("%s: org ID not parsed", o.Key)
				}
			}
			for _, l := range m.listed {
				if !strings.HasPrefix(l, "objects ") || tt.wantListed == nil {
					continue
				}
				if !slices.ContainsFunc(tt.wantListed, func(p string) bool { return strings.HasPrefix(l, p) }) {
					t.Errorf("listed %q, outside the selected prefixes", l)
				}
			}
			if len(sk.Folders) == 0 {
				t.Errorf("the CloudTrail-Digest folder was not reported as skipped")
			}
		})
	}
}

func TestParseKey(t *testing.T) {
	tests := []struct{ key, acct, region, org string }{
		{"AWSLogs/123456789012/CloudTrail/us-east-1/2026/01/02/x.json.gz", "123456789012", "us-east-1", ""},
		{"p/AWSLogs/o-aa11bb22cc/123456789012/CloudTrail/cn-north-1/2026/01/02/x.json.gz", "123456789012", "cn-north-1", "o-aa11bb22cc"},
		{"random/file.json", "", "", ""},
	}
	for _, tt := range tests {
		a, r, o, _ := ParseKey(tt.key)
		if a != tt.acct || r != tt.region || o != tt.org {
			t.Errorf("ParseKey(%q) = %q %q %q", tt.key, a, r, o)
		}
	}
}

// fakeS3 is a func-typed fake of the consumer interface, for fast tests.
type fakeS3 struct {
	list func(*s3.ListObjectsV2Input) (*s3.ListObjectsV2Output, error)
	get  func(*s3.GetObjectInput) (*s3.GetObjectOutput, error)
}

func (f fakeS3) ListObjectsV2(_ context.Context, in *s3.ListObjectsV2Input, _ ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return f.list(in)
}
func (f fakeS3) GetObject(_ context.Context, in *s3.GetObjectInput, _ ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return f.get(in)
}

func TestS3OpenMissingKeyIsNotFound(t *testing.T) {
	src := NewS3(fakeS3{get: func(*s3.GetObjectInput) (*s3.GetObjectOutput, error) {
		return nil, &types.NoSuchKey{Message: aws.String("gone")}
	}}, "b", "")
	_, err := src.Open(context.Background(), "k")
	var nf interface{ NotFound() bool }
	if err == nil || !asNotFound(err, &nf) {
		t.Fatalf("err = %v, want a NotFound error", err)
	}
}

func asNotFound(err error, target *interface{ NotFound() bool }) bool {
	for e := err; e != nil; {
		if nf, ok := e.(interface{ NotFound() bool }); ok && nf.NotFound() {
			*target = nf
			return true
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		e = u.Unwrap()
	}
	return false
}

// s3Server answers ListObjectsV2 (with pagination and delimiters) and
// GetObject in S3's REST/XML wire format, for the real SDK client.
type s3Server struct {
	keys      []string
	body      []byte
	pageSize  int
	throttle  atomic.Int32 // answer this many requests with 503 SlowDown first
	requests  atomic.Int32
	getCalls  atomic.Int32
	listCalls atomic.Int32
}

func (s *s3Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	if s.throttle.Load() > 0 {
		s.throttle.Add(-1)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`)
		return
	}
	// path-style: /bucket or /bucket/key
	path := strings.TrimPrefix(r.URL.Path, "/bucket")
	if path == "" || path == "/" {
		s.listCalls.Add(1)
		s.list(w, r)
		return
	}
	s.getCalls.Add(1)
	key := strings.TrimPrefix(path, "/")
	if !slices.Contains(s.keys, key) {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`)
		return
	}
	w.Header().Set("Content-Length", fmt.Sprint(len(s.body)))
	w.Header().Set("ETag", `"abc"`)
	w.Write(s.body)
}

func (s *s3Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	prefix, delim, token := q.Get("prefix"), q.Get("delimiter"), q.Get("continuation-token")
	var entries []string // keys or common prefixes, sorted
	seen := map[string]bool{}
	for _, k := range s.keys {
		rest, ok := strings.CutPrefix(k, prefix)
		if !ok {
			continue
		}
		if delim != "" {
			if i := strings.Index(rest, delim); i >= 0 {
				cp := prefix + rest[:i+1]
				if !seen[cp] {
					seen[cp] = true
					entries = append(entries, "P"+cp)
				}
				continue
			}
		}
		entries = append(entries, "K"+k)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i][1:] < entries[j][1:] })
	start := 0
	if token != "" {
		fmt.Sscan(token, &start)
	}
	end := min(start+s.pageSize, len(entries))
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name>`)
	fmt.Fprintf(&b, "<Prefix>%s</Prefix><KeyCount>%d</KeyCount><MaxKeys>%d</MaxKeys>", prefix, end-start, s.pageSize)
	if end < len(entries) {
		fmt.Fprintf(&b, "<IsTruncated>true</IsTruncated><NextContinuationToken>%d</NextContinuationToken>", end)
	} else {
		b.WriteString("<IsTruncated>false</IsTruncated>")
	}
	for _, e := range entries[start:end] {
		if e[0] == 'P' {
			fmt.Fprintf(&b, "<CommonPrefixes><Prefix>%s</Prefix></CommonPrefixes>", e[1:])
		} else {
			fmt.Fprintf(&b, `<Contents><Key>%s</Key><Size>%d</Size><ETag>"e-%s"</ETag></Contents>`, e[1:], len(s.body), e[1+len(e)-6:])
		}
	}
	b.WriteString("</ListBucketResult>")
	w.Header().Set("Content-Type", "application/xml")
	io.WriteString(w, b.String())
}

func realClient(url string, attempts int) *s3.Client {
	return s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = attempts
			o.MaxBackoff = 5 * time.Millisecond
		}),
	})
}

// TestS3RealClientPaginatesAndRetries drives the real SDK client through
// paginated listings (page size 7, so every listing spans pages) and through
// 503 SlowDown answers, which the standard retryer absorbs.
func TestS3RealClientPaginatesAndRetries(t *testing.T) {
	srv := &s3Server{body: []byte("hello"), pageSize: 7}
	for d := 1; d <= 3; d++ {
		for i := 0; i < 10; i++ {
			srv.keys = append(srv.keys, fmt.Sprintf("AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/%02d/f%02d.json.gz", d, i))
		}
	}
	sort.Strings(srv.keys)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	src := NewS3(realClient(ts.URL, 5), "bucket", "")

	srv.throttle.Store(2)
	var got []string
	if err := src.Walk(context.Background(), Filter{}, func(o Object) error { got = append(got, o.Key); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, srv.keys) {
		t.Fatalf("listed %d keys, want %d", len(got), len(srv.keys))
	}
	if srv.listCalls.Load() < 5 {
		t.Errorf("only %d list calls: pagination not exercised", srv.listCalls.Load())
	}
	srv.throttle.Store(2)
	rc, err := src.Open(context.Background(), srv.keys[0])
	if err != nil {
		t.Fatalf("open after 2 SlowDowns: %v", err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "hello" {
		t.Fatalf("body %q", b)
	}
	// Always throttled: a clear error, no hang.
	srv.throttle.Store(1000)
	_, err = src.Open(context.Background(), srv.keys[1])
	if err == nil || !strings.Contains(err.Error(), "SlowDown") {
		t.Fatalf("err = %v, want SlowDown after retries", err)
	}
	srv.throttle.Store(0)
	_, err = src.Open(context.Background(), "AWSLogs/nope.json.gz")
	var nf interface{ NotFound() bool }
	if !asNotFound(err, &nf) {
		t.Fatalf("missing key: err = %v, want NotFound", err)
	}
}

// Within an account, days come out in order with all regions of a day (and
// both the organization and the account trail) together; objects outside
// the date layout still come out, once each.
func TestDiscoverDayMajorAndNothingLost(t *testing.T) {
	var keys []string
	for _, acct := range []string{"111111111111", "222222222222"} {
		for _, region := range []string{"eu-west-1", "us-east-1"} {
			for _, d := range []string{"2026/10/31", "2026/11/01", "2026/11/02"} {
				keys = append(keys,
					fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/a.json.gz", acct, region, d),
					fmt.Sprintf("AWSLogs/o-abcdefghij/%s/CloudTrail/%s/%s/b.json.gz", acct, region, d))
			}
		}
	}
	strays := []string{
		"AWSLogs/111111111111/CloudTrail/us-east-1/stray.json.gz",
		"AWSLogs/111111111111/CloudTrail/us-east-1/2026/notes.txt",
		"AWSLogs/111111111111/CloudTrail/us-east-1/backup/x.json.gz",
		"AWSLogs/111111111111/CloudTrail/loose.json.gz",
	}
	keys = append(keys, strays...)
	sort.Strings(keys)
	for _, f := range []Filter{{}, {From: day("2026-11-01")}} {
		m := &memLister{keys: keys}
		var got []string
		err := discover(context.Background(), m, "", f, &Skipped{}, func(o Object) error {
			got = append(got, o.Key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]int{}
		lastDay := map[string]string{}
		for _, k := range got {
			seen[k]++
			acct, _, _, _ := ParseKey(k)
			if i := strings.Index(k, "/2026/"); i >= 0 && len(k) > i+11 && isDigits(k[i+9:i+11], 2) {
				d := k[i+1 : i+11]
				if d < lastDay[acct] {
					t.Errorf("%s comes after a key of %s", k, lastDay[acct])
				}
				lastDay[acct] = d
			}
		}
		want := keys
		if !f.From.IsZero() {
			want = nil
			for _, k := range keys {
				if !strings.Contains(k, "/2026/10/31/") {
					want = append(want, k)
				}
			}
		}
		for _, k := range want {
			if seen[k] != 1 {
				t.Errorf("filter %+v: %s listed %d times", f, k, seen[k])
			}
		}
		if len(got) != len(want) {
			t.Errorf("filter %+v: %d keys, want %d", f, len(got), len(want))
		}
	}
}
