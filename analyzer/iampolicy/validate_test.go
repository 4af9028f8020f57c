package iampolicy

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateFixture(t *testing.T) {
	p, err := ParseFile(filepath.Join(fixtures, "invalid.json"))
	if err != nil {
		t.Fatal(err)
	}
	err = p.Document.Validate(KindIdentity)
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("%v", err)
	}
	msg := err.Error()
	for _, want := range []string{
		`Version "2012-10-18"`,
		`statement 0 (Sid a-b): Sid "a-b" may hold only letters and digits`,
		`Effect "allow" must be Allow or Deny`,
		`both Action and NotAction`,
		`no Resource or NotResource`,
		`an identity policy has no Principal`,
		`Sid "a-b" repeats statement 0's`,
		`action "s3 GetObject"`,
		`resource "bucket" must be "*" or an ARN`,
		`condition operator "StringEqualz" is not an IAM operator`,
	} {
		if !strings.Contains(msg, want) {
			t.Errorf("no %q in\n%s", want, msg)
		}
	}
}

// TestValidateKinds holds each kind's own rules: each document is valid as
// one kind and not as another.
func TestValidateKinds(t *testing.T) {
	for _, tt := range []struct {
		name, doc string
		valid     []Kind
		invalid   map[Kind]string
	}{
		{"identity", `{"Version":"2012-10-17","Statement":[{"Sid":"S1","Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
			[]Kind{KindIdentity}, map[Kind]string{KindResource: "no Principal", KindTrust: "no Principal"}},
		{"resource", `{"Statement":[{"Sid":"any text","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}`,
			[]Kind{KindResource}, map[Kind]string{KindIdentity: "has no Principal", KindTrust: "no Resource"}},
		{"trust", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":["sts:AssumeRole","sts:TagSession"]}]}`,
			[]Kind{KindTrust}, map[Kind]string{KindIdentity: "no Resource or NotResource", KindResource: "no Resource or NotResource"}},
		{"trust with a non-STS action", `{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}`,
			nil, map[Kind]string{KindTrust: "only sts actions"}},
		{"empty", `{"Version":"2012-10-17","Statement":[]}`, nil, map[Kind]string{KindIdentity: "no statements"}},
		{"bad principal type", `{"Statement":[{"Effect":"Allow","Principal":{"Aws":"x"},"Action":"s3:*","Resource":"*"}]}`,
			nil, map[Kind]string{KindResource: `principal type "Aws"`}},
		{"Null IfExists", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"NullIfExists":{"aws:TokenIssueTime":"true"}}}]}`,
			nil, map[Kind]string{KindIdentity: "Null takes no IfExists"}},
		{"qualifier", `{"Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"ForSomeValues:StringLike":{"aws:TagKeys":"x"}}}]}`,
			nil, map[Kind]string{KindIdentity: "set qualifier"}},
	} {
		d, err := Parse([]byte(tt.doc))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		for _, k := range tt.valid {
			if err := d.Validate(k); err != nil {
				t.Errorf("%s as %s: %v", tt.name, k, err)
			}
		}
		for k, want := range tt.invalid {
			err := d.Validate(k)
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("%s as %s: got %v, want %q", tt.name, k, err, want)
			}
		}
	}
}
