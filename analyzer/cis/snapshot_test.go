package cis

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/iamstate"
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

	var gaad iamstate.AuthorizationDetails
	readJSON(t, filepath.Join(dir, "iam.get-account-authorization-details.output1.json"), &gaad)
	if len(gaad.RoleDetailList) == 0 || len(gaad.Policies) == 0 {
		t.Errorf("gaad: %d roles, %d policies", len(gaad.RoleDetailList), len(gaad.Policies))
	}

	var cr iamstate.CredentialReportOutput
	readJSON(t, filepath.Join(dir, "iam.get-credential-report.output1.json"), &cr)
	if cr.GeneratedTime.Format(time.RFC3339) != "2015-06-17T19:11:50Z" {
		t.Errorf("credential report time %v", cr.GeneratedTime)
	}
}
