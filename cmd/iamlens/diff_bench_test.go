package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// BenchmarkDiffAll measures `iamlens diff --all --gaad …` beside
// `iamlens analyze --all` on the same dataset, whole commands to
// io.Discard: diff reads as analyze does and adds the comparison. By
// default the dataset is generated (300 principals, 12,000 events, one
// GAAD file) so that CI runs it with -benchtime 1x; IAMLENS_BENCH_STORE
// and IAMLENS_BENCH_GAAD (files separated by commas) name a larger one,
// such as bench/compare.sh diff builds.
func BenchmarkDiffAll(b *testing.B) {
	if _, err := os.Stat("../../analyzer/catalog/catalog.txt.gz"); err != nil {
		b.Skip("the IAM catalogue is not available")
	}
	st, gaads := os.Getenv("IAMLENS_BENCH_STORE"), os.Getenv("IAMLENS_BENCH_GAAD")
	if st == "" {
		st, gaads = benchDataset(b)
	}
	var gargs []string
	for _, g := range strings.Split(gaads, ",") {
		gargs = append(gargs, "--gaad", g)
	}
	ctx := context.Background()
	for _, c := range []struct {
		name string
		args []string
	}{
		{"analyze", []string{"analyze", "--store", st, "--all", "--format", "json"}},
		{"diff", append([]string{"diff", "--store", st, "--all", "--format", "json"}, gargs...)},
	} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if code := run(ctx, c.args, io.Discard, io.Discard); code != 0 {
					b.Fatalf("%v: exit %d", c.args, code)
				}
			}
		})
	}
}

// benchDataset writes and ingests 300 principals' calls, and a GAAD of
// them: each with an inline policy, a customer managed policy shared by
// ten, and for one in four ReadOnlyAccess named by ARN only.
func benchDataset(b *testing.B) (store, gaad string) {
	b.Helper()
	dir := b.TempDir()
	const acct = "111122223333"
	type doc = map[string]any
	var recs []ingesttest.Record
	var users, roles []doc
	var policies []doc
	for i := 0; i < 30; i++ {
		s := realCalls[i%len(realCalls)]
		policies = append(policies, doc{"PolicyName": fmt.Sprintf("shared-%02d", i), "Arn": fmt.Sprintf("arn:aws:iam::%s:policy/shared-%02d", acct, i),
			"DefaultVersionId": "v1", "PolicyVersionList": []doc{{"VersionId": "v1", "IsDefaultVersion": true,
				"Document": doc{"Version": "2012-10-17", "Statement": []doc{{"Effect": "Allow", "Action": []string{s.action, strings.Split(s.action, ":")[0] + ":Describe*"}, "Resource": "*"}}}}}})
	}
	n := 0
	for p := 0; p < 300; p++ {
		arn := fmt.Sprintf("arn:aws:iam::%s:user/user-%04d", acct, p)
		if p%2 == 1 {
			arn = fmt.Sprintf("arn:aws:iam::%s:role/app/role-%04d", acct, p)
		}
		attached := []doc{{"PolicyName": fmt.Sprintf("shared-%02d", p%30), "PolicyArn": fmt.Sprintf("arn:aws:iam::%s:policy/shared-%02d", acct, p%30)}}
		if p%4 == 0 {
			attached = append(attached, doc{"PolicyName": "ReadOnlyAccess", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"})
		}
		inline := []doc{{"PolicyName": "own", "PolicyDocument": doc{"Version": "2012-10-17", "Statement": []doc{
			{"Effect": "Allow", "Action": []string{"s3:ListAllMyBuckets", "ec2:DescribeInstances", "kms:ListKeys"}, "Resource": "*"}}}}}
		name := arn[strings.LastIndexByte(arn, '/')+1:]
		if p%2 == 0 {
			users = append(users, doc{"UserName": name, "Arn": arn, "Path": "/", "UserPolicyList": inline, "AttachedManagedPolicies": attached})
		} else {
			roles = append(roles, doc{"RoleName": name, "Arn": arn, "Path": "/app/", "RolePolicyList": inline, "AttachedManagedPolicies": attached})
		}
		for k := 0; k < 40; k++ {
			n++
			c := realCalls[(p+k)%len(realCalls)]
			recs = append(recs, recordFor(arn, fmt.Sprintf("ev-%07d", n), fmt.Sprintf("2026-11-03T%02d:%02d:%02dZ", k%24, p%60, k%60), c.source, c.name))
		}
	}
	logs := filepath.Join(dir, "logs")
	for f := 0; f*2000 < len(recs); f++ {
		part := recs[f*2000 : min((f+1)*2000, len(recs))]
		ingesttest.WriteFile(b, logs, ingesttest.Key(acct, "us-east-1", "2026/11/03", f), ingesttest.Gzip(b, ingesttest.LogJSON(b, part...)))
	}
	store = filepath.Join(dir, "store")
	if code := run(context.Background(), []string{"ingest", "--store", store, "--no-progress", "--format", "json", logs}, io.Discard, io.Discard); code != 0 {
		b.Fatalf("ingest: exit %d", code)
	}
	raw, err := json.Marshal(doc{"UserDetailList": users, "RoleDetailList": roles, "GroupDetailList": []doc{}, "Policies": policies})
	if err != nil {
		b.Fatal(err)
	}
	gaad = filepath.Join(dir, "gaad.json")
	if err := os.WriteFile(gaad, raw, 0o644); err != nil {
		b.Fatal(err)
	}
	return store, gaad
}
