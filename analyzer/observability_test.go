package analyzer

import (
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer/catalog"
)

func TestUnobservable(t *testing.T) {
	cat, err := catalog.Load()
	if err != nil {
		t.Skipf("the IAM catalogue is not available: %v", err)
	}
	noData := func(string) bool { return false }
	s3Data := func(src string) bool { return src == "s3.amazonaws.com" }
	for _, c := range []struct {
		action  string
		seen    func(string) bool
		hidden  bool
		why     string
		dataSrc string
	}{
		{"iam:PassRole", s3Data, true, "never iam:PassRole", ""},
		{"sts:TagSession", s3Data, true, "AssumeRole", ""},
		{"execute-api:Invoke", s3Data, true, "API Gateway", ""},
		{"es:ESHttpGet", s3Data, true, "OpenSearch", ""},
		{"s3:GetObject", noData, true, "no s3.amazonaws.com data events", "s3.amazonaws.com"},
		{"s3:GetObject", s3Data, false, "", "s3.amazonaws.com"},
		{"s3:PutObjectTagging", noData, true, "data event", "s3.amazonaws.com"}, // an object action, from the catalogue
		{"s3:ListBucket", noData, true, "data event", "s3.amazonaws.com"},
		{"s3:GetBucketPolicy", noData, false, "", ""}, // a management event
		{"lambda:InvokeFunction", s3Data, true, "lambda.amazonaws.com", "lambda.amazonaws.com"},
		{"lambda:GetFunction", noData, false, "", ""},
		{"dynamodb:GetItem", noData, true, "dynamodb.amazonaws.com", "dynamodb.amazonaws.com"},
		{"dynamodb:DescribeTable", noData, false, "", ""},
		{"sqs:SendMessage", nil, true, "sqs.amazonaws.com", "sqs.amazonaws.com"},
		{"sns:Publish", noData, true, "sns.amazonaws.com", "sns.amazonaws.com"},
		{"ec2:DescribeInstances", noData, false, "", ""},
	} {
		why, hidden := Unobservable(c.action, cat, c.seen)
		if hidden != c.hidden || !strings.Contains(why, c.why) {
			t.Errorf("Unobservable(%s) = %q, %v; want %v with %q", c.action, why, hidden, c.hidden, c.why)
		}
		if src := DataEventSource(c.action, cat); src != c.dataSrc {
			t.Errorf("DataEventSource(%s) = %q, want %q", c.action, src, c.dataSrc)
		}
	}
	// Every action named here exists in the catalogue (a typo would hide
	// nothing).
	for a := range neverLogged {
		if _, ok := cat.Action(a); !ok {
			t.Errorf("neverLogged: %s is not in the catalogue", a)
		}
	}
	for svc, d := range dataEvents {
		for _, a := range d.actions {
			if _, ok := cat.Action(svc + ":" + a); !ok {
				t.Errorf("dataEvents: %s:%s is not in the catalogue", svc, a)
			}
		}
	}
}
