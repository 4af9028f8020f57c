package iampolicy

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ParseAny reads a policy document in any of the shapes people hand over:
// the document itself (object, JSON string, URL-encoded string), or an AWS
// CLI output that wraps one:
//
//	{"PolicyDocument": …}                  CloudFormation, aws iam get-role-policy / get-user-policy / get-group-policy
//	{"PolicyVersion": {"Document": …}}     aws iam get-policy-version
//	{"Document": …}                        a policy version on its own
//	{"Policy": "…"}                        aws s3api get-bucket-policy, aws lambda get-policy, …
//
// name is the wrapper's PolicyName when it has one, else "".
func ParseAny(b []byte) (doc *Document, name string, err error) {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var w struct {
			PolicyName     string          `json:"PolicyName"`
			PolicyDocument json.RawMessage `json:"PolicyDocument"`
			PolicyVersion  *struct {
				Document json.RawMessage `json:"Document"`
			} `json:"PolicyVersion"`
			Document  json.RawMessage `json:"Document"`
			Policy    json.RawMessage `json:"Policy"`
			Statement json.RawMessage `json:"Statement"`
		}
		if err := json.Unmarshal(b, &w); err != nil {
			return nil, "", fmt.Errorf("policy document: %w", err)
		}
		var inner json.RawMessage
		switch {
		case w.Statement != nil:
		case w.PolicyDocument != nil:
			inner, name = w.PolicyDocument, w.PolicyName
		case w.PolicyVersion != nil && w.PolicyVersion.Document != nil:
			inner = w.PolicyVersion.Document
		case w.Document != nil:
			inner = w.Document
		case w.Policy != nil:
			inner = w.Policy
		}
		if inner != nil {
			d, err := Parse(inner)
			if err != nil {
				return nil, "", err
			}
			return d, name, nil
		}
	}
	d, err := Parse(b)
	return d, "", err
}

// ParseFile reads a policy file in any shape ParseAny accepts and names it
// after the wrapper's PolicyName or, without one, the file's base name
// without extension.
func ParseFile(path string) (Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, err
	}
	d, name, err := ParseAny(b)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	if name == "" {
		base := filepath.Base(path)
		name = strings.TrimSuffix(base, filepath.Ext(base))
	}
	return Policy{Name: name, Source: path, Document: d}, nil
}
