package cloudtrail

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestNormalize reads each shape of the same records and gets the same
// records back, through Records and through the Splitter ingest uses.
func TestNormalize(t *testing.T) {
	r1 := `{"eventID":"a1","eventName":"ListBuckets","eventTime":"2024-01-02T03:04:05Z"}`
	r2 := `{"eventID":"a2","eventName":"GetObject","eventTime":"2024-01-02T03:04:06Z"}`
	for _, tt := range []struct {
		name, data string
		shape      Shape
		ids        []string
	}{
		{"log", `{"Records":[` + r1 + `,` + r2 + `]}`, ShapeLog, []string{"a1", "a2"}},
		{"array", " [" + r1 + ",\n" + r2 + "]\n", ShapeArray, []string{"a1", "a2"}},
		{"lines", r1 + "\n\n" + r2 + "\n", ShapeLines, []string{"a1", "a2"}},
		{"crlf lines", r1 + "\r\n" + r2 + "\r\n", ShapeLines, []string{"a1", "a2"}},
		{"record", "\n" + r1 + "\n", ShapeRecord, []string{"a1"}},
		{"empty log", `{"Records":[]}`, ShapeLog, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, shape, err := Normalize([]byte(tt.data))
			if err != nil || shape != tt.shape {
				t.Fatalf("shape %v, %v; want %v", shape, err, tt.shape)
			}
			var ids []string
			if _, err := Records(got, func(rec gjson.Result) bool { ids = append(ids, rec.Get("eventID").Str); return true }); err != nil {
				t.Fatal(err)
			}
			if strings.Join(ids, ",") != strings.Join(tt.ids, ",") {
				t.Errorf("records %q, want %q", ids, tt.ids)
			}
			sp := testSplitter()
			if n, err := sp.Split(got); err != nil || n != len(tt.ids) {
				t.Errorf("Split: %d, %v", n, err)
			}
		})
	}
	for _, tt := range []struct {
		name, data string
		want       error
	}{
		{"object", `{"foo":1}`, ErrNotLog},
		{"Records not an array", `{"Records":"x"}`, ErrNotLog},
		{"array of numbers", `[1,2]`, ErrNotLog},
		{"array of other objects", `[{"a":1}]`, ErrNotLog},
		{"empty array", `[]`, ErrNotLog},
		{"garbage", `{"Records":[`, ErrInvalidJSON},
		{"empty", ``, ErrInvalidJSON},
		{"lines then garbage", r1 + "\n{oops\n", ErrInvalidJSON},
		{"lines of other objects", r1 + "\n{\"a\":1}\n", ErrNotLog},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := Normalize([]byte(tt.data)); !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// TestNormalizeReal: the real files of other shapes (TrailDiscover's bare
// arrays and single records, the OTRF export's records one per line) read
// as records.
func TestNormalizeReal(t *testing.T) {
	for _, tt := range []struct {
		file  string
		shape Shape
		min   int
	}{
		{"traildiscover/logExamples/AssumeRole.json.cloudtrail", ShapeArray, 1},
		{"traildiscover/logExamples/DescribeDBEngineVersions.json.cloudtrail", ShapeRecord, 1},
		{"otrf-ec2-proxy-s3-exfil/ec2_proxy_s3_exfiltration_2020-09-14011940.json", ShapeLines, 100},
		{"trailscraper-fixtures/tests/cloudtrail/data/111111111111_CloudTrail_eu-central-1_20171211T1505Z_A6kvhMoVeCsc7v8U.json", ShapeLog, 2},
	} {
		data, err := os.ReadFile(ingesttest.CloudTrailFile(t, tt.file))
		if err != nil {
			t.Fatal(err)
		}
		got, shape, err := Normalize(data)
		if err != nil || shape != tt.shape {
			t.Errorf("%s: %v, %v; want %v", tt.file, shape, err, tt.shape)
			continue
		}
		if n, err := Records(got, func(gjson.Result) bool { return true }); err != nil || n < tt.min {
			t.Errorf("%s: %d records, %v", tt.file, n, err)
		}
	}
}
