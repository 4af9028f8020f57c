package main

import (
	"os"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/catalog"
	"github.com/iamlens/iamlens/analyzer/iampolicy"
)

// examplePolicyGrants reads a policy shipped under examples/, checks that
// every statement is an Allow of Action on Resource and that every action
// exists, and returns what it grants as "action resource-before-the-first-slash".
func examplePolicyGrants(t *testing.T, path string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := iampolicy.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	cat, err := catalog.Load()
	if err != nil {
		t.Fatal(err)
	}
	granted := map[string]bool{}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" || len(st.NotAction) > 0 || len(st.Resource) == 0 {
			t.Errorf("%s: statement %s: only Allow, Action and Resource", path, st.Sid)
		}
		for _, a := range st.Action {
			if _, ok := cat.Action(a); !ok {
				t.Errorf("%s: statement %s: %s is no IAM action", path, st.Sid, a)
			}
			for _, r := range st.Resource {
				granted[a+" "+strings.SplitN(r, "/", 2)[0]] = true
			}
		}
	}
	return granted
}

// TestScaleWorkerPolicy: the worker policy the scale-out recipe ships is
// a valid policy of actions that exist, and grants what a shard does:
// list and read the trail, list, read, write and delete in the dataset.
func TestScaleWorkerPolicy(t *testing.T) {
	granted := examplePolicyGrants(t, "../../examples/scale/worker-policy.json")
	for _, want := range []string{
		"s3:ListBucket arn:aws:s3:::ORG-TRAIL-BUCKET", "s3:GetObject arn:aws:s3:::ORG-TRAIL-BUCKET",
		"s3:ListBucket arn:aws:s3:::DATASET-BUCKET", "s3:GetObject arn:aws:s3:::DATASET-BUCKET",
		"s3:PutObject arn:aws:s3:::DATASET-BUCKET", "s3:DeleteObject arn:aws:s3:::DATASET-BUCKET",
	} {
		if !granted[want] {
			t.Errorf("the worker policy does not grant %s", want)
		}
	}
	if granted["s3:PutObject arn:aws:s3:::ORG-TRAIL-BUCKET"] || granted["s3:DeleteObject arn:aws:s3:::ORG-TRAIL-BUCKET"] {
		t.Error("the worker policy lets a worker write the trail")
	}
}

// TestAthenaReaderPolicy: the policy for --engine athena is valid, of real
// actions, and grants the query calls, the tables and reading the dataset,
// never writing it.
func TestAthenaReaderPolicy(t *testing.T) {
	granted := examplePolicyGrants(t, "../../examples/scale/athena-reader-policy.json")
	for _, want := range []string{
		"athena:StartQueryExecution arn:aws:athena:REGION:ACCOUNT-ID:workgroup", "athena:GetQueryResults arn:aws:athena:REGION:ACCOUNT-ID:workgroup",
		"glue:GetTable arn:aws:glue:REGION:ACCOUNT-ID:table", "s3:GetObject arn:aws:s3:::DATASET-BUCKET",
		"s3:PutObject arn:aws:s3:::ATHENA-RESULTS-BUCKET",
	} {
		if !granted[want] {
			t.Errorf("the Athena policy does not grant %s", want)
		}
	}
	if granted["s3:PutObject arn:aws:s3:::DATASET-BUCKET"] || granted["s3:DeleteObject arn:aws:s3:::DATASET-BUCKET"] {
		t.Error("the Athena policy lets a reader write the dataset")
	}
}
