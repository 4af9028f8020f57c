// Package ingesttest holds helpers shared by the tests of iamlens: finding
// the real test data (testdata/sample, testdata/thirdparty, and the
// optional ../shared/data), writing CloudTrail log files, and reading a store
// back with both Parquet libraries. It is imported only from _test files.
package ingesttest

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// NeedsShared starts the message of every test skipped because
// ../shared/data is absent (scripts/test.sh counts them by it).
const NeedsShared = "needs ../shared"

// SharedData returns the path of ../shared/data (the team's full
// third-party data), walking up from the working directory. A fresh clone
// has none: the tests that use it are optional extra checks and skip with
// a message that starts with NeedsShared.
func SharedData(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		p := filepath.Join(dir, "shared", "data")
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip(NeedsShared + "/data (an optional extra check; a fresh clone has no ../shared)")
		}
		dir = parent
	}
}

// RepoRoot returns the repository's root: the folder above the working
// directory that holds this module's go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/iamlens/iamlens\n") {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod of github.com/iamlens/iamlens above the working directory")
		}
		dir = parent
	}
}

// Sample is testdata/sample: the 55 real invictus-ir log files (2,900
// records, MIT) in the S3 key layout.
func Sample(t testing.TB) string {
	return filepath.Join(RepoRoot(t), "testdata", "sample")
}

// Invictus is the folder of the real invictus-ir logs (55 files, 2,900
// records): the bundled sample.
func Invictus(t testing.TB) string { return Sample(t) }

// ThirdParty returns testdata/thirdparty/<rel>: third-party data committed
// for the tests, laid out as ../shared/data is (see its README.md).
func ThirdParty(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "testdata", "thirdparty", filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test data: %v", err)
	}
	return p
}

// CloudTrailDirs are the folders of real CloudTrail inputs, what
// ../shared/data/cloudtrail/dev holds: the sample and the third-party
// events of testdata/thirdparty/cloudtrail.
func CloudTrailDirs(t testing.TB) []string {
	return []string{Sample(t), ThirdParty(t, "cloudtrail")}
}

// CloudTrailFile returns the path of a file named as under
// ../shared/data/cloudtrail/dev (the invictus folder is the sample).
func CloudTrailFile(t testing.TB, rel string) string {
	t.Helper()
	if r, ok := strings.CutPrefix(rel, "invictus-ir-aws_dataset/"); ok {
		return filepath.Join(Sample(t), filepath.FromSlash(r))
	}
	return filepath.Join(ThirdParty(t, "cloudtrail"), filepath.FromSlash(rel))
}

// RealLogs returns every gzipped log file of the real logs (the sample and
// the third-party logs), decompressed, by path. A file that does not
// gunzip is left out: the bad-input tests make their own.
func RealLogs(t testing.TB) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	for _, root := range CloudTrailDirs(t) {
		GzipFiles(t, root, func(p string, raw []byte) {
			if data, err := gunzip(raw); err == nil {
				out[p] = data
			}
		})
	}
	if len(out) < 56 {
		t.Fatalf("only %d real log files under %v", len(out), CloudTrailDirs(t))
	}
	return out
}

// RecordsArray is, found with gjson, the array of doc that ingest reads
// as its records: the first top-level "Records" member, if it is an array
// (the first of a repeated key wins, as with gjson's Get; a file whose
// first Records is not an array has no records). The fuzz tests hold the
// splitter and the builder to it.
func RecordsArray(doc []byte) gjson.Result {
	var recs gjson.Result
	gjson.ParseBytes(doc).ForEach(func(k, v gjson.Result) bool {
		if k.Str == "Records" {
			if v.IsArray() {
				recs = v
			}
			return false
		}
		return true
	})
	return recs
}

// Record is one synthetic CloudTrail record.
type Record map[string]any

// NewRecord returns a plausible IAM-user record with the given ID and time.
func NewRecord(id, when, user, source, name string) Record {
	return Record{
		"eventVersion": "1.08",
		"userIdentity": map[string]any{
			"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": "111122223333",
			"arn": "arn:aws:iam::111122223333:user/" + user, "userName": user, "accessKeyId": "AKIAEXAMPLE",
		},
		"eventTime": when, "eventSource": source, "eventName": name, "awsRegion": "us-east-1",
		"sourceIPAddress": "198.51.100.7", "userAgent": "aws-cli/2.15.0",
		"requestParameters": map[string]any{"bucketName": "example-bucket"},
		"responseElements":  nil, "eventID": id, "readOnly": true, "eventType": "AwsApiCall",
		"managementEvent": true, "recipientAccountId": "111122223333", "eventCategory": "Management",
	}
}

// LogJSON wraps records in CloudTrail's {"Records":[...]} envelope.
func LogJSON(t testing.TB, recs ...Record) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Gzip compresses b.
func Gzip(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// WriteFile writes data at dir/rel, creating folders.
func WriteFile(t testing.TB, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Key returns a key in the account-trail layout for day (YYYY/MM/DD) and n.
func Key(account, region, day string, n int) string {
	return fmt.Sprintf("AWSLogs/%s/CloudTrail/%s/%s/%s_CloudTrail_%s_%sT0000Z_%04d.json.gz",
		account, region, day, account, region, compact(day), n)
}

// OrgKey returns a key in the organization-trail layout.
func OrgKey(org, account, region, day string, n int) string {
	return "AWSLogs/" + org + "/" + Key(account, region, day, n)[len("AWSLogs/"):]
}

func compact(day string) string {
	out := make([]byte, 0, 8)
	for i := 0; i < len(day); i++ {
		if day[i] != '/' {
			out = append(out, day[i])
		}
	}
	return string(out)
}

// ColumnTagMismatches lists the fields of the struct row whose parquet tag
// is not the tag that the struct written (columns.Event or
// columns.Resource) gives the column of that name, less the writer-only
// "dict"; the fields of an embedded struct count as the row's. A reading
// struct whose tags differ from the files' types makes
// store.Scan convert every row instead of reading the columns as they are.
func ColumnTagMismatches(row, written any) []string {
	tags := func(v any) map[string]string {
		m := map[string]string{}
		rt := reflect.TypeOf(v)
		for i := 0; i < rt.NumField(); i++ {
			tag := rt.Field(i).Tag.Get("parquet")
			name, _, _ := strings.Cut(tag, ",")
			m[name] = strings.Replace(tag, ",dict", "", 1)
		}
		return m
	}
	files := tags(written)
	var out []string
	rt := reflect.TypeOf(row)
	for i := 0; i < rt.NumField(); i++ {
		f := rt.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct { // an embedded view: its columns are the row's
			out = append(out, ColumnTagMismatches(reflect.Zero(f.Type).Interface(), written)...)
			continue
		}
		tag := f.Tag.Get("parquet")
		name, _, _ := strings.Cut(tag, ",")
		switch want, ok := files[name]; {
		case !ok:
			out = append(out, fmt.Sprintf("%s.%s reads %q, which is not a dataset column", rt.Name(), f.Name, name))
		case want != tag:
			out = append(out, fmt.Sprintf("%s.%s is tagged %q; the files hold %q", rt.Name(), f.Name, tag, want))
		}
	}
	return out
}

// DuplicateKeysRecord is a CloudTrail record with keys repeated at every
// level iamlens reads: the record's own keys, userIdentity's, its
// sessionContext's and sessionIssuer's, requestParameters', a resources
// element's and tlsDetails'. CloudTrail never writes one; the tests hold
// every reader to one rule on it: at each level, the first of a repeated
// key wins (DuplicateKeysFirst), the whole of the first object included.
const DuplicateKeysRecord = `{"eventVersion":"1.08",` +
	`"userIdentity":{"type":"AssumedRole","type":"IAMUser",` +
	`"principalId":"AROAFIRST:s1","arn":"arn:aws:sts::111122223333:assumed-role/First/s1","arn":"arn:aws:sts::111122223333:assumed-role/Second/s2",` +
	`"accountId":"111122223333","accountId":"999999999999","accessKeyId":"ASIAFIRST","accessKeyId":"ASIASECOND",` +
	`"sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/First","arn":"arn:aws:iam::111122223333:role/Second","accountId":"111122223333"},` +
	`"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/Third"},"attributes":{"mfaAuthenticated":"true","mfaAuthenticated":"false"}},` +
	`"sessionContext":{"sessionIssuer":{"arn":"arn:aws:iam::111122223333:role/Fourth"},"webIdFederationData":{"federatedProvider":"p"}}},` +
	`"userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333"},` +
	`"eventTime":"2026-11-01T10:00:00Z","eventTime":"2026-11-02T11:00:00Z",` +
	`"eventSource":"s3.amazonaws.com","eventSource":"iam.amazonaws.com","eventName":"GetObject","eventName":"DeleteUser",` +
	`"awsRegion":"us-east-1","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","sourceIPAddress":"203.0.113.9",` +
	`"userAgent":"aws-cli/2.15.0","requestParameters":{"bucketName":"first-bucket","bucketName":"second-bucket","key":"a.txt","Delete":{"Quiet":true},"Delete":{"Object":[{"Key":"b.txt"}]}},` +
	`"requestParameters":{"userName":"x"},"responseElements":null,` +
	`"resources":[{"ARN":"arn:aws:s3:::first-bucket/a.txt","ARN":"arn:aws:s3:::second-bucket/a.txt","type":"AWS::S3::Object","type":"X","accountId":"111122223333"}],` +
	`"resources":[{"ARN":"arn:aws:s3:::other"}],"tlsDetails":{"tlsVersion":"TLSv1.3","tlsVersion":"TLSv1.2"},"tlsDetails":{"tlsVersion":"TLSv1.0"},` +
	`"eventID":"dddddddd-0000-4000-8000-000000000001","eventID":"dddddddd-0000-4000-8000-000000000002",` +
	`"readOnly":true,"readOnly":false,"errorCode":"AccessDenied","errorCode":"NoSuchKey","eventType":"AwsApiCall","eventType":"AwsServiceEvent",` +
	`"managementEvent":false,"recipientAccountId":"111122223333","recipientAccountId":"999999999999","eventCategory":"Data"}`

// DuplicateKeysFirst is what every reader must make of
// DuplicateKeysRecord: the first value of each repeated key.
var DuplicateKeysFirst = struct {
	EventID, EventTime, EventSource, EventName, Region, SourceIP, ErrorCode, EventType, Recipient   string
	IdentityType, UserIdentityARN, PrincipalARN, PrincipalAccount, SessionName, AccessKeyID, Issuer string
	MFA, ReadOnly                                                                                   bool
	RequestParameters, ResourceARN, ResourceType, TLSVersion                                        string
}{
	EventID: "dddddddd-0000-4000-8000-000000000001", EventTime: "2026-11-01T10:00:00Z", EventSource: "s3.amazonaws.com",
	EventName: "GetObject", Region: "us-east-1", SourceIP: "198.51.100.7", ErrorCode: "AccessDenied", EventType: "AwsApiCall",
	Recipient: "111122223333", IdentityType: "AssumedRole", UserIdentityARN: "arn:aws:sts::111122223333:assumed-role/First/s1",
	PrincipalARN: "arn:aws:iam::111122223333:role/First", PrincipalAccount: "111122223333", SessionName: "s1",
	AccessKeyID: "ASIAFIRST", Issuer: "arn:aws:iam::111122223333:role/First", MFA: true, ReadOnly: true,
	RequestParameters: `{"bucketName":"first-bucket","bucketName":"second-bucket","key":"a.txt","Delete":{"Quiet":true},"Delete":{"Object":[{"Key":"b.txt"}]}}`,
	ResourceARN:       "arn:aws:s3:::first-bucket/a.txt", ResourceType: "AWS::S3::Object", TLSVersion: "TLSv1.3",
}

// Files calls fn with the path and the bytes, as stored, of every file
// below root whose path keep accepts, in lexical order: the one walk over
// a folder of real logs that the tests share (GzipFiles, LogFiles,
// LogRecords, RealLogs and DevRecords are built on it). raw is the
// caller's to keep. A root under ../shared that is absent skips the test,
// naming the path (a fresh clone has none); any other absent root, or a
// file that does not read, fails it.
func Files(t testing.TB, root string, keep func(path string) bool, fn func(path string, raw []byte)) {
	t.Helper()
	if _, err := os.Stat(root); err != nil {
		if strings.Contains(filepath.ToSlash(root), "/shared/") {
			t.Skipf("%s: %s absent (%v)", NeedsShared, root, err)
		}
		t.Fatalf("test data: %v", err)
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !keep(p) {
			return err
		}
		raw, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		fn(p, raw)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// GzipFiles calls fn with the path and the bytes, as stored, of every
// gzipped log file (*.json.gz) below root, in lexical order (Files).
func GzipFiles(t testing.TB, root string, fn func(path string, raw []byte)) {
	t.Helper()
	Files(t, root, func(p string) bool { return strings.HasSuffix(p, ".json.gz") }, fn)
}

// gunzip decompresses one gzipped file whole, every member.
func gunzip(raw []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// LogFiles calls fn with the path and the decompressed bytes of every
// gzipped log file (*.json.gz) below root, in lexical order (GzipFiles).
// A file that does not gunzip fails the test.
func LogFiles(t testing.TB, root string, fn func(path string, data []byte)) {
	t.Helper()
	GzipFiles(t, root, func(p string, raw []byte) {
		data, err := gunzip(raw)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		fn(p, data)
	})
}

// LogRecords calls fn with every record of every log file below root
// (LogFiles), in order; rec aliases the file's bytes, which stay valid.
func LogRecords(t testing.TB, root string, fn func(path string, rec gjson.Result)) {
	t.Helper()
	LogFiles(t, root, func(p string, data []byte) {
		RecordsArray(data).ForEach(func(_, rec gjson.Result) bool {
			fn(p, rec)
			return true
		})
	})
}
