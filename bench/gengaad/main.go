// Command gengaad writes get-account-authorization-details outputs for the
// principals of a dataset, for the `iamlens diff --all` benchmark: one file
// per account (gaad-ACCOUNT.json), N users and roles in all, taken from the
// dataset's principals (then made up, when the dataset has fewer: those
// have no events). Each principal gets what real accounts give: one to
// three of 30 customer managed policies shared across the account, an
// AWS managed policy named by ARN only (read from iamlens's embedded copy)
// for a third of them, an inline policy of its own, a group's policies for
// a third of the users, and a permissions boundary for one in ten.
// Deterministic for a seed.
//
//	go run ./bench/gengaad -store bench/out/store-1024m -n 1000 -out bench/out/gaad-1000
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/iamlens/iamlens/ingest/store"
)

func main() {
	storeDir := flag.String("store", "", "dataset whose principals are used")
	n := flag.Int("n", 1000, "users and roles in all")
	out := flag.String("out", "bench/out/gaad", "output folder")
	seed := flag.Uint64("seed", 1, "random seed")
	flag.Parse()
	if *storeDir == "" {
		log.Fatal("-store is required")
	}
	st, err := store.Open(*storeDir)
	if err != nil {
		log.Fatal(err)
	}
	all, err := store.PrincipalARNs(context.Background(), st, store.Query{})
	if err != nil {
		log.Fatal(err)
	}
	var arns []string
	for _, a := range all {
		if strings.Contains(a, ":iam::") && (strings.Contains(a, ":user/") || strings.Contains(a, ":role/")) && !strings.Contains(a, "/aws-service-role/") {
			arns = append(arns, a)
		}
	}
	sort.Strings(arns)
	rng := rand.New(rand.NewPCG(*seed, 7))
	rng.Shuffle(len(arns), func(i, j int) { arns[i], arns[j] = arns[j], arns[i] })
	if len(arns) > *n {
		arns = arns[:*n]
	}
	accounts := map[string]bool{}
	for _, a := range arns {
		accounts[strings.Split(a, ":")[4]] = true
	}
	if len(accounts) == 0 {
		accounts["111122223333"] = true
	}
	var accts []string
	for a := range accounts {
		accts = append(accts, a)
	}
	sort.Strings(accts)
	for i := 0; len(arns) < *n; i++ {
		acct := accts[i%len(accts)]
		arns = append(arns, fmt.Sprintf("arn:aws:iam::%s:role/bench/extra-%04d", acct, i))
	}
	byAcct := map[string][]string{}
	for _, a := range arns {
		acct := strings.Split(a, ":")[4]
		byAcct[acct] = append(byAcct[acct], a)
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, acct := range accts {
		g := account(acct, byAcct[acct], rng)
		b, err := json.MarshalIndent(g, "", " ")
		if err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(*out, "gaad-"+acct+".json")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			log.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "%s: %d principals\n", path, len(byAcct[acct]))
	}
}

type doc = map[string]any

func policy(stmts ...doc) doc { return doc{"Version": "2012-10-17", "Statement": stmts} }

func allow(actions []string, resources ...string) doc {
	return doc{"Effect": "Allow", "Action": actions, "Resource": resources}
}

// services are the services the customer policies and inline policies
// draw from, with actions and resource patterns.
var services = []struct {
	actions   []string
	resources func(acct, name string) []string
}{
	{[]string{"s3:GetObject", "s3:PutObject", "s3:ListBucket", "s3:GetBucketLocation"}, func(acct, name string) []string {
		return []string{"arn:aws:s3:::" + name + "-data", "arn:aws:s3:::" + name + "-data/*"}
	}},
	{[]string{"s3:Get*", "s3:List*"}, func(acct, name string) []string { return []string{"*"} }},
	{[]string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:DescribeTable"}, func(acct, name string) []string {
		return []string{"arn:aws:dynamodb:*:" + acct + ":table/" + name + "*"}
	}},
	{[]string{"sqs:SendMessage", "sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"}, func(acct, name string) []string {
		return []string{"arn:aws:sqs:*:" + acct + ":" + name + "-*"}
	}},
	{[]string{"ec2:Describe*"}, func(acct, name string) []string { return []string{"*"} }},
	{[]string{"iam:Get*", "iam:List*"}, func(acct, name string) []string { return []string{"*"} }},
	{[]string{"lambda:InvokeFunction", "lambda:GetFunction", "lambda:ListFunctions"}, func(acct, name string) []string { return []string{"*"} }},
	{[]string{"kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey"}, func(acct, name string) []string {
		return []string{"arn:aws:kms:*:" + acct + ":key/*"}
	}},
	{[]string{"logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogGroups"}, func(acct, name string) []string { return []string{"*"} }},
	{[]string{"cloudtrail:LookupEvents", "cloudtrail:DescribeTrails", "sts:GetCallerIdentity"}, func(acct, name string) []string { return []string{"*"} }},
	{[]string{"secretsmanager:GetSecretValue"}, func(acct, name string) []string {
		return []string{"arn:aws:secretsmanager:*:" + acct + ":secret:" + name + "/*"}
	}},
}

var awsManaged = []string{
	"arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
	"arn:aws:iam::aws:policy/AmazonDynamoDBReadOnlyAccess", "arn:aws:iam::aws:policy/CloudWatchLogsReadOnlyAccess",
	"arn:aws:iam::aws:policy/AmazonSQSFullAccess", "arn:aws:iam::aws:policy/PowerUserAccess",
}

// account builds one account's GAAD output.
func account(acct string, arns []string, rng *rand.Rand) doc {
	const customer = 30
	var policies []doc
	pick := func() doc {
		s := services[rng.IntN(len(services))]
		return allow(s.actions, s.resources(acct, fmt.Sprintf("team%d", rng.IntN(8)))...)
	}
	for i := 0; i < customer; i++ {
		stmts := []doc{pick(), pick()}
		if i%7 == 0 {
			stmts = append(stmts, doc{"Effect": "Deny", "Action": []string{"s3:DeleteBucket", "iam:CreateUser"}, "Resource": []string{"*"}})
		}
		if i%5 == 0 {
			c := pick()
			c["Condition"] = doc{"Bool": doc{"aws:MultiFactorAuthPresent": "true"}}
			stmts = append(stmts, c)
		}
		policies = append(policies, doc{"PolicyName": fmt.Sprintf("shared-%02d", i), "Arn": fmt.Sprintf("arn:aws:iam::%s:policy/shared-%02d", acct, i),
			"Path": "/", "DefaultVersionId": "v1", "AttachmentCount": 1, "IsAttachable": true,
			"PolicyVersionList": []doc{{"Document": policy(stmts...), "VersionId": "v1", "IsDefaultVersion": true}}})
	}
	boundary := fmt.Sprintf("arn:aws:iam::%s:policy/bench-boundary", acct)
	policies = append(policies, doc{"PolicyName": "bench-boundary", "Arn": boundary, "Path": "/", "DefaultVersionId": "v1", "IsAttachable": true,
		"PolicyVersionList": []doc{{"Document": policy(doc{"Effect": "Allow", "NotAction": []string{"iam:*", "organizations:*"}, "Resource": "*"}),
			"VersionId": "v1", "IsDefaultVersion": true}}})
	attached := func() []doc {
		var out []doc
		for k := 1 + rng.IntN(3); k > 0; k-- {
			i := rng.IntN(customer)
			out = append(out, doc{"PolicyName": fmt.Sprintf("shared-%02d", i), "PolicyArn": fmt.Sprintf("arn:aws:iam::%s:policy/shared-%02d", acct, i)})
		}
		if rng.IntN(3) == 0 {
			a := awsManaged[rng.IntN(len(awsManaged))]
			out = append(out, doc{"PolicyName": a[strings.LastIndexByte(a, '/')+1:], "PolicyArn": a})
		}
		return out
	}
	inline := func(name string) []doc {
		return []doc{{"PolicyName": name + "-inline", "PolicyDocument": policy(pick(), pick())}}
	}
	var groups []doc
	for i := 0; i < 5; i++ {
		groups = append(groups, doc{"Path": "/", "GroupName": fmt.Sprintf("group-%d", i), "GroupId": fmt.Sprintf("AGPA%012d", i),
			"Arn": fmt.Sprintf("arn:aws:iam::%s:group/group-%d", acct, i), "GroupPolicyList": inline(fmt.Sprintf("group-%d", i)),
			"AttachedManagedPolicies": attached()})
	}
	var users, roles []doc
	for i, a := range arns {
		res := strings.SplitN(a, ":", 6)[5]
		name := res[strings.LastIndexByte(res, '/')+1:]
		path := "/" + res[strings.IndexByte(res, '/')+1:strings.LastIndexByte(res, '/')+1]
		if path == "//" {
			path = "/"
		}
		entry := doc{"Path": path, "Arn": a, "AttachedManagedPolicies": attached(), "CreateDate": "2025-01-01T00:00:00Z"}
		if i%10 == 0 {
			entry["PermissionsBoundary"] = doc{"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
		}
		if strings.HasPrefix(res, "user/") {
			entry["UserName"], entry["UserId"] = name, fmt.Sprintf("AIDA%012d", i)
			entry["UserPolicyList"] = inline(name)
			if i%3 == 0 {
				entry["GroupList"] = []string{fmt.Sprintf("group-%d", rng.IntN(5))}
			}
			users = append(users, entry)
			continue
		}
		entry["RoleName"], entry["RoleId"] = name, fmt.Sprintf("AROA%012d", i)
		entry["RolePolicyList"] = inline(name)
		entry["AssumeRolePolicyDocument"] = policy(doc{"Effect": "Allow", "Principal": doc{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"})
		roles = append(roles, entry)
	}
	return doc{"UserDetailList": users, "GroupDetailList": groups, "RoleDetailList": roles, "Policies": policies}
}
