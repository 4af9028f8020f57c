package cis

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// thirdParty is testdata/thirdparty: third-party AWS outputs committed
// for the tests, laid out as ../shared/data.
func thirdParty(t *testing.T) string {
	t.Helper()
	return ingesttest.ThirdParty(t, ".")
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func TestParseAWSCLIOutputs(t *testing.T) {
	dir := filepath.Join(thirdParty(t), "aws-outputs", "aws-cli-examples", "json")

	var trails DescribeTrailsOutput
	readJSON(t, filepath.Join(dir, "cloudtrail.describe-trails.output1.json"), &trails)
	var generic struct {
		TrailList []map[string]any `json:"trailList"`
	}
	readJSON(t, filepath.Join(dir, "cloudtrail.describe-trails.output1.json"), &generic)
	if len(trails.TrailList) != len(generic.TrailList) || len(trails.TrailList) == 0 {
		t.Fatalf("trails: got %d, want %d", len(trails.TrailList), len(generic.TrailList))
	}
	for i, tr := range trails.TrailList {
		if tr.TrailARN != generic.TrailList[i]["TrailARN"] || tr.S3BucketName != generic.TrailList[i]["S3BucketName"] {
			t.Errorf("trail %d: got %+v", i, tr)
		}
		_, hasKMS := generic.TrailList[i]["KmsKeyId"]
		if (tr.KmsKeyId != "") != hasKMS {
			t.Errorf("trail %d: KmsKeyId %q, generic has it: %v", i, tr.KmsKeyId, hasKMS)
		}
	}

	var st TrailStatus
	readJSON(t, filepath.Join(dir, "cloudtrail.get-trail-status.output1.json"), &st)
	if !st.IsLogging || st.LatestDeliveryTime.Unix() != 1454022144 || st.LatestCloudWatchLogsDeliveryTime.IsZero() {
		t.Errorf("trail status: %+v", st)
	}

	for _, name := range []string{"cloudtrail.get-event-selectors.output1.json", "cloudtrail.put-event-selectors.output1.json", "cloudtrail.put-event-selectors.output2.json", "cloudtrail.put-event-selectors.output3.json"} {
		var es EventSelectorsOutput
		readJSON(t, filepath.Join(dir, name), &es)
		var g struct {
			EventSelectors, AdvancedEventSelectors []json.RawMessage
		}
		readJSON(t, filepath.Join(dir, name), &g)
		if len(es.EventSelectors) != len(g.EventSelectors) || len(es.AdvancedEventSelectors) != len(g.AdvancedEventSelectors) {
			t.Errorf("%s: got %d/%d selectors, want %d/%d", name, len(es.EventSelectors), len(es.AdvancedEventSelectors), len(g.EventSelectors), len(g.AdvancedEventSelectors))
		}
	}
	// put-event-selectors output3 logs all S3 objects (basic selectors);
	// output1 logs S3 writes to all but one bucket (advanced, so not all).
	var all, partial EventSelectorsOutput
	readJSON(t, filepath.Join(dir, "cloudtrail.put-event-selectors.output3.json"), &all)
	readJSON(t, filepath.Join(dir, "cloudtrail.put-event-selectors.output1.json"), &partial)
	if !logsAllS3Objects(&all, false) || !logsAllS3Objects(&all, true) {
		t.Error("output3 should log all S3 object reads and writes")
	}
	if logsAllS3Objects(&partial, false) {
		t.Error("output1 excludes a bucket, it does not log all S3 writes")
	}
	if !logsManagementEvents(&partial) {
		t.Error("output1 logs management events")
	}

	var gaad AuthorizationDetails
	readJSON(t, filepath.Join(dir, "iam.get-account-authorization-details.output1.json"), &gaad)
	if len(gaad.RoleDetailList) == 0 || len(gaad.Policies) == 0 {
		t.Errorf("gaad: %d roles, %d policies", len(gaad.RoleDetailList), len(gaad.Policies))
	}

	var cr CredentialReportOutput
	readJSON(t, filepath.Join(dir, "iam.get-credential-report.output1.json"), &cr)
	if cr.GeneratedTime.Format(time.RFC3339) != "2015-06-17T19:11:50Z" {
		t.Errorf("credential report time %v", cr.GeneratedTime)
	}
}

func TestParseGAADExamples(t *testing.T) {
	dir := filepath.Join(thirdParty(t), "aws-outputs", "gaad")
	for _, name := range []string{"cloudsplaining-examples-files-example.json", "cloudsplaining-test-files-example-authz-details.json"} {
		t.Run(name, func(t *testing.T) {
			var got AuthorizationDetails
			readJSON(t, filepath.Join(dir, name), &got)
			var want struct {
				UserDetailList, GroupDetailList, RoleDetailList, Policies []json.RawMessage
			}
			readJSON(t, filepath.Join(dir, name), &want)
			if len(got.UserDetailList) != len(want.UserDetailList) || len(got.GroupDetailList) != len(want.GroupDetailList) ||
				len(got.RoleDetailList) != len(want.RoleDetailList) || len(got.Policies) != len(want.Policies) {
				t.Fatalf("counts differ")
			}
			// Every default policy version's statements decode; compare the
			// count of statements with a generic decode.
			var generic struct {
				Policies []struct {
					PolicyVersionList []struct {
						Document struct {
							Statement json.RawMessage
						}
					}
				}
			}
			readJSON(t, filepath.Join(dir, name), &generic)
			for i, p := range got.Policies {
				for j, v := range p.PolicyVersionList {
					raw := strings.TrimSpace(string(generic.Policies[i].PolicyVersionList[j].Document.Statement))
					n := 1
					if strings.HasPrefix(raw, "[") {
						var xs []json.RawMessage
						_ = json.Unmarshal([]byte(raw), &xs)
						n = len(xs)
					}
					if len(v.Document.Statement) != n {
						t.Errorf("%s %s: %d statements, want %d", p.Arn, v.VersionId, len(v.Document.Statement), n)
					}
				}
			}
		})
	}
	// The cloudsplaining example has 44 users, 5 groups, 78 roles, 84 policies (data README).
	var d AuthorizationDetails
	readJSON(t, filepath.Join(dir, "cloudsplaining-examples-files-example.json"), &d)
	if len(d.UserDetailList) != 44 || len(d.GroupDetailList) != 5 || len(d.RoleDetailList) != 78 || len(d.Policies) != 84 {
		t.Errorf("got %d users %d groups %d roles %d policies", len(d.UserDetailList), len(d.GroupDetailList), len(d.RoleDetailList), len(d.Policies))
	}
}

func TestPolicyDocumentURLEncoded(t *testing.T) {
	// The API returns documents URL-encoded in a string (the SDK keeps it so).
	in := `{"PolicyName":"p","PolicyDocument":"%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22%2A%22%2C%22Resource%22%3A%22%2A%22%7D%7D"}`
	var p InlinePolicy
	if err := json.Unmarshal([]byte(in), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.PolicyDocument.Statement) != 1 || p.PolicyDocument.Statement[0].Action[0] != "*" {
		t.Fatalf("got %+v", p.PolicyDocument)
	}
}

func TestParseCredentialReportCSV(t *testing.T) {
	path := filepath.Join(thirdParty(t), "aws-outputs", "credential-report", "prowler-test-credential-report.csv")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, cr := range []CredentialReportOutput{{CSV: string(b)}, {Content: b}} {
		rows, err := cr.Rows()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(recs)-1 || len(recs[0]) != 22 {
			t.Fatalf("rows %d, want %d (header %d columns)", len(rows), len(recs)-1, len(recs[0]))
		}
		if !rows[0].IsRoot() || !rows[0].Bool("access_key_1_active") || rows[0].Bool("mfa_active") {
			t.Errorf("row 0: %v", rows[0])
		}
		if _, ok := rows[0].Time("password_last_used"); ok {
			t.Error("no_information must not parse as a time")
		}
		if ct, ok := rows[0].Time("user_creation_time"); !ok || ct.Year() != 2022 {
			t.Errorf("user_creation_time %v %v", ct, ok)
		}
	}
	// base64 inside JSON, as `aws iam get-credential-report` prints it.
	js, _ := json.Marshal(map[string]any{"Content": b, "ReportFormat": "text/csv", "GeneratedTime": "2026-11-01T00:00:00Z"})
	var cr CredentialReportOutput
	if err := json.Unmarshal(js, &cr); err != nil {
		t.Fatal(err)
	}
	if rows, err := cr.Rows(); err != nil || len(rows) != len(recs)-1 {
		t.Fatalf("json content: %d rows, %v", len(rows), err)
	}
}
