package cis

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// A CLI folder holds the outputs of the AWS CLI commands that make a
// snapshot, one file a command, for auditors who cannot run iamlens in
// the account (CloudShell): global/ for the account-wide calls and
// <region>/ for each region, each file named
// <cli-service>-<operation>[__<param>].json, the parameter (trail ARN, key
// ID, bucket, topic ARN) with every byte outside [A-Za-z0-9._-] replaced by
// "_". A command that failed leaves <name>.error (its stderr) instead.
// global/iamlens-collected-at.txt holds the time the commands ran.
// PrintCLI prints the script; ReadCLIFolder reads its folder.

// CollectedAtFile is the file of a CLI folder that holds the collection
// time (RFC 3339).
const CollectedAtFile = "iamlens-collected-at.txt"

// SafeParam is the file-name form of a parameter (the script's
// `LC_ALL=C tr -c 'A-Za-z0-9._-' '_'`).
func SafeParam(p string) string {
	b := []byte(p)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			b[i] = '_'
		}
	}
	return string(b)
}

// cliFile is one command's file name in a folder.
func cliFile(service, op, param string) string {
	if param == "" {
		return service + "-" + op + ".json"
	}
	return service + "-" + op + "__" + SafeParam(param) + ".json"
}

// emptyOnError lists the error codes that mean "read, and empty": the
// account has no password policy, the bucket no policy or public access
// block, the region no Security Hub.
var emptyOnError = []string{"NoSuchEntity", "NoSuchBucketPolicy", "NoSuchPublicAccessBlockConfiguration", "InvalidAccessException", "ResourceNotFoundException"}

type folderReader struct {
	dir   string
	snap  *Snapshot
	files int
	bad   []string
}

// read decodes dir/sub/name into v. It returns false when the output is
// absent (an .error file is recorded as a CollectError) or empty-by-error
// (v is left zero and true is returned with empty set).
func (fr *folderReader) read(sub, region, service, op, param, resource string, v any) (found bool) {
	name := cliFile(service, op, param)
	path := filepath.Join(fr.dir, sub, name)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		eb, eerr := os.ReadFile(strings.TrimSuffix(path, ".json") + ".error")
		if eerr != nil {
			return false
		}
		msg := strings.TrimSpace(string(eb))
		for _, code := range emptyOnError {
			if strings.Contains(msg, code) {
				return true // v stays {}: read, and empty
			}
		}
		svc := map[string]string{"s3api": "s3", "configservice": "config", "accessanalyzer": "access-analyzer"}[service]
		fr.snap.Errors = append(fr.snap.Errors, CollectError{Region: region, Service: orPlaceholder(svc, service), Operation: apiOp(op), Resource: resource, Message: cliError(msg)})
		return false
	}
	if err != nil {
		fr.bad = append(fr.bad, fmt.Sprintf("%s: %v", filepath.Join(sub, name), err))
		return false
	}
	fr.files++
	if len(bytes.TrimSpace(b)) == 0 {
		return true // the CLI prints nothing for an empty answer (get-bucket-versioning)
	}
	if err := json.Unmarshal(b, v); err != nil {
		fr.bad = append(fr.bad, fmt.Sprintf("%s: %v", filepath.Join(sub, name), err))
		return false
	}
	return true
}

var cliErrorRE = regexp.MustCompile(`An error occurred \(([^)]+)\)(?: when calling the \w+ operation(?: \(reached max retries: \d+\))?)?: (.*)`)

// cliError reads the AWS CLI's error line ("An error occurred (Code) when
// calling the Op operation: message") as the collector writes errors
// ("Code: message"); other text is kept as its last non-empty line.
func cliError(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for _, l := range lines {
		if m := cliErrorRE.FindStringSubmatch(l); m != nil {
			return m[1] + ": " + m[2]
		}
	}
	return strings.TrimSpace(lines[len(lines)-1])
}

// readInto is read for a pointer field: it sets *dst to a new value when
// the output was read.
func readInto[T any](fr *folderReader, sub, region, service, op, param, resource string, dst **T) {
	v := new(T)
	if fr.read(sub, region, service, op, param, resource, v) {
		*dst = v
	}
}

// ReadCLIFolder reads a folder of AWS CLI outputs (see PrintCLI) into a
// snapshot. It refuses a folder without the caller identity or the
// collection time, and counts the files it could not read.
func ReadCLIFolder(dir string) (*Snapshot, error) {
	if _, err := os.Stat(filepath.Join(dir, "global")); err != nil {
		return nil, fmt.Errorf("%s: not a folder of AWS CLI outputs: no global/ folder (write one with the script of 'iamlens collect --print-cli')", dir)
	}
	s := &Snapshot{Regions: map[string]*Region{}, Buckets: map[string]*Bucket{}}
	fr := &folderReader{dir: dir, snap: s}
	var id struct{ Account, Arn string }
	if !fr.read("global", "", "sts", "get-caller-identity", "", "", &id) || id.Account == "" {
		return nil, fmt.Errorf("%s: global/%s is missing: it gives the account ID", dir, cliFile("sts", "get-caller-identity", ""))
	}
	s.AccountID = id.Account
	if p := strings.SplitN(id.Arn, ":", 3); len(p) == 3 {
		s.Partition = p[1]
	}
	if b, err := os.ReadFile(filepath.Join(dir, "global", CollectedAtFile)); err == nil {
		t, err := time.Parse(time.RFC3339, strings.TrimSpace(string(b)))
		if err != nil {
			return nil, fmt.Errorf("%s: global/%s: %v", dir, CollectedAtFile, err)
		}
		s.CollectedAt = Time{Time: t.UTC()}
	}
	g := "global"
	readInto(fr, g, "", "ec2", "describe-regions", "", "", &s.DescribeRegions)
	var aliases struct{ AccountAliases []string }
	if fr.read(g, "", "iam", "list-account-aliases", "", "", &aliases) && len(aliases.AccountAliases) > 0 {
		s.AccountName = aliases.AccountAliases[0]
	}
	readInto(fr, g, "", "iam", "get-credential-report", "", "", &s.IAM.CredentialReport)
	readInto(fr, g, "", "iam", "get-account-authorization-details", "", "", &s.IAM.AuthorizationDetails)
	readInto(fr, g, "", "iam", "list-virtual-mfa-devices", "", "", &s.IAM.VirtualMFADevices)
	readInto(fr, g, "", "iam", "get-account-password-policy", "", "", &s.IAM.PasswordPolicy)
	readInto(fr, g, "", "iam", "get-account-summary", "", "", &s.IAM.AccountSummary)
	readInto(fr, g, "", "iam", "list-server-certificates", "", "", &s.IAM.ServerCertificates)
	part := orPlaceholder(s.Partition, "aws")
	for _, name := range []string{"AWSSupportAccess", "AWSCloudShellFullAccess"} {
		arn := "arn:" + part + ":iam::aws:policy/" + name
		var v *EntitiesForPolicyOutput
		readInto(fr, g, "", "iam", "list-entities-for-policy", arn, arn, &v)
		if v != nil {
			if s.IAM.EntitiesForPolicy == nil {
				s.IAM.EntitiesForPolicy = map[string]*EntitiesForPolicyOutput{}
			}
			s.IAM.EntitiesForPolicy[arn] = v
		}
	}
	if s.CollectedAt.IsZero() && s.IAM.CredentialReport != nil && !s.IAM.CredentialReport.GeneratedTime.IsZero() {
		s.CollectedAt = Time{Time: s.IAM.CredentialReport.GeneratedTime.UTC()}
	}
	if s.CollectedAt.IsZero() {
		return nil, fmt.Errorf("%s: no collection time: global/%s is missing (the script writes it; or: date -u +%%Y-%%m-%%dT%%H:%%M:%%SZ > global/%s)", dir, CollectedAtFile, CollectedAtFile)
	}
	readInto(fr, g, "", "s3api", "list-buckets", "", "", &s.ListBuckets)
	readInto(fr, g, "", "s3control", "get-public-access-block", "", "", &s.S3AccountPublicAccessBlock)

	for _, r := range folderRegions(dir, s) {
		rs := &Region{}
		readInto(fr, r, r, "cloudtrail", "describe-trails", "", "", &rs.DescribeTrails)
		if rs.DescribeTrails != nil {
			rs.TrailStatus, rs.EventSelectors = map[string]*TrailStatus{}, map[string]*EventSelectorsOutput{}
			for _, t := range rs.DescribeTrails.TrailList {
				if t.HomeRegion != r {
					continue
				}
				var st *TrailStatus
				readInto(fr, r, r, "cloudtrail", "get-trail-status", t.TrailARN, t.TrailARN, &st)
				if st != nil {
					rs.TrailStatus[t.TrailARN] = st
				}
				var es *EventSelectorsOutput
				readInto(fr, r, r, "cloudtrail", "get-event-selectors", t.TrailARN, t.TrailARN, &es)
				if es != nil {
					rs.EventSelectors[t.TrailARN] = es
				}
			}
		}
		readInto(fr, r, r, "kms", "list-keys", "", "", &rs.KMSKeys)
		if rs.KMSKeys != nil {
			rs.KMSKeyMetadata, rs.KMSKeyRotation = map[string]*DescribeKeyOutput{}, map[string]*KeyRotationStatusOutput{}
			for _, k := range rs.KMSKeys.Keys {
				var md *DescribeKeyOutput
				readInto(fr, r, r, "kms", "describe-key", k.KeyId, k.KeyId, &md)
				if md != nil {
					rs.KMSKeyMetadata[k.KeyId] = md
				}
				var rot *KeyRotationStatusOutput
				readInto(fr, r, r, "kms", "get-key-rotation-status", k.KeyId, k.KeyId, &rot)
				if rot != nil {
					rs.KMSKeyRotation[k.KeyId] = rot
				}
			}
		}
		readInto(fr, r, r, "logs", "describe-metric-filters", "", "", &rs.MetricFilters)
		readInto(fr, r, r, "cloudwatch", "describe-alarms", "", "", &rs.MetricAlarms)
		for _, topic := range regionTopics(rs) {
			var subs *ListSubscriptionsByTopicOutput
			readInto(fr, r, r, "sns", "list-subscriptions-by-topic", topic, topic, &subs)
			if subs != nil {
				if rs.SNSSubscriptions == nil {
					rs.SNSSubscriptions = map[string]*ListSubscriptionsByTopicOutput{}
				}
				rs.SNSSubscriptions[topic] = subs
			}
		}
		readInto(fr, r, r, "configservice", "describe-configuration-recorders", "", "", &rs.ConfigRecorders)
		readInto(fr, r, r, "configservice", "describe-configuration-recorder-status", "", "", &rs.ConfigRecorderStatus)
		readInto(fr, r, r, "ec2", "describe-vpcs", "", "", &rs.Vpcs)
		readInto(fr, r, r, "ec2", "describe-flow-logs", "", "", &rs.FlowLogs)
		readInto(fr, r, r, "ec2", "describe-security-groups", "", "", &rs.SecurityGroups)
		readInto(fr, r, r, "ec2", "describe-network-acls", "", "", &rs.NetworkAcls)
		readInto(fr, r, r, "ec2", "describe-instances", "", "", &rs.Instances)
		readInto(fr, r, r, "ec2", "get-ebs-encryption-by-default", "", "", &rs.EbsEncryptionByDefault)
		readInto(fr, r, r, "accessanalyzer", "list-analyzers", "", "", &rs.Analyzers)
		readInto(fr, r, r, "rds", "describe-db-instances", "", "", &rs.DBInstances)
		readInto(fr, r, r, "efs", "describe-file-systems", "", "", &rs.FileSystems)
		readInto(fr, r, r, "securityhub", "describe-hub", "", "", &rs.SecurityHub)
		s.Regions[r] = rs
	}
	for _, name := range folderBuckets(s) {
		var loc struct{ LocationConstraint *string }
		if !fr.read(g, "", "s3api", "get-bucket-location", name, name, &loc) {
			continue
		}
		region := "us-east-1"
		if loc.LocationConstraint != nil && *loc.LocationConstraint != "" {
			region = *loc.LocationConstraint
		}
		if region == "EU" {
			region = "eu-west-1"
		}
		b := &Bucket{Region: region}
		readInto(fr, g, "", "s3api", "get-public-access-block", name, name, &b.PublicAccessBlock)
		readInto(fr, g, "", "s3api", "get-bucket-policy", name, name, &b.Policy)
		readInto(fr, g, "", "s3api", "get-bucket-versioning", name, name, &b.Versioning)
		readInto(fr, g, "", "s3api", "get-bucket-acl", name, name, &b.Acl)
		readInto(fr, g, "", "s3api", "get-bucket-policy-status", name, name, &b.PolicyStatus)
		readInto(fr, g, "", "s3api", "get-bucket-logging", name, name, &b.Logging)
		s.Buckets[name] = b
	}
	if len(fr.bad) > 0 {
		return nil, fmt.Errorf("%s: %d files could not be read: %s", dir, len(fr.bad), strings.Join(fr.bad, "; "))
	}
	if fr.files < 2 {
		return nil, fmt.Errorf("%s: no AWS CLI output besides the caller identity", dir)
	}
	return s, nil
}

// folderRegions are the regions describe-regions lists, else the folders
// that look like regions.
func folderRegions(dir string, s *Snapshot) []string {
	if s.DescribeRegions != nil {
		return s.EnabledRegions()
	}
	var out []string
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.IsDir() && e.Name() != "global" && strings.Count(e.Name(), "-") >= 2 {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out
}

// folderBuckets are the buckets list-buckets lists and those the trails
// write to.
func folderBuckets(s *Snapshot) []string {
	set := map[string]bool{}
	if s.ListBuckets != nil {
		for _, b := range s.ListBuckets.Buckets {
			set[b.Name] = true
		}
	}
	for _, rs := range s.Regions {
		if rs.DescribeTrails != nil {
			for _, t := range rs.DescribeTrails.TrailList {
				if t.S3BucketName != "" {
					set[t.S3BucketName] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for n := range set {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func regionTopics(rs *Region) []string {
	if rs.MetricAlarms == nil {
		return nil
	}
	set := map[string]bool{}
	for _, a := range rs.MetricAlarms.MetricAlarms {
		for _, act := range a.AlarmActions {
			if strings.HasPrefix(act, "arn:") && strings.Contains(act, ":sns:") {
				set[act] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for t := range set {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}

// WriteCLIFolder writes a snapshot as the folder the CLI script makes (the
// inverse of ReadCLIFolder), for tests and for handing a snapshot to tools
// that read AWS CLI outputs. Folders are 0700 and files 0600: they hold
// the account's IAM details.
func WriteCLIFolder(dir string, s *Snapshot) error {
	put := func(sub, service, op, param string, v any) error {
		if v == nil || isNilPtr(v) {
			return nil
		}
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return err
		}
		b, err := json.MarshalIndent(v, "", "    ")
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, sub, cliFile(service, op, param)), append(b, '\n'), 0o600)
	}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	g := "global"
	arn := fmt.Sprintf("arn:%s:iam::%s:user/iamlens", orPlaceholder(s.Partition, "aws"), s.AccountID)
	add(put(g, "sts", "get-caller-identity", "", map[string]string{"Account": s.AccountID, "Arn": arn, "UserId": "AIDAIAMLENS"}))
	add(os.WriteFile(filepath.Join(dir, g, CollectedAtFile), []byte(s.CollectedAt.UTC().Format(time.RFC3339)+"\n"), 0o600))
	add(put(g, "ec2", "describe-regions", "", s.DescribeRegions))
	if s.AccountName != "" {
		add(put(g, "iam", "list-account-aliases", "", map[string][]string{"AccountAliases": {s.AccountName}}))
	}
	add(put(g, "iam", "get-credential-report", "", s.IAM.CredentialReport))
	add(put(g, "iam", "get-account-authorization-details", "", s.IAM.AuthorizationDetails))
	add(put(g, "iam", "list-virtual-mfa-devices", "", s.IAM.VirtualMFADevices))
	add(put(g, "iam", "get-account-password-policy", "", s.IAM.PasswordPolicy))
	add(put(g, "iam", "get-account-summary", "", s.IAM.AccountSummary))
	add(put(g, "iam", "list-server-certificates", "", s.IAM.ServerCertificates))
	for a, v := range s.IAM.EntitiesForPolicy {
		add(put(g, "iam", "list-entities-for-policy", a, v))
	}
	add(put(g, "s3api", "list-buckets", "", s.ListBuckets))
	add(put(g, "s3control", "get-public-access-block", "", s.S3AccountPublicAccessBlock))
	for name, b := range s.Buckets {
		loc := map[string]any{"LocationConstraint": b.Region}
		if b.Region == "us-east-1" {
			loc["LocationConstraint"] = nil
		}
		add(put(g, "s3api", "get-bucket-location", name, loc))
		add(put(g, "s3api", "get-public-access-block", name, b.PublicAccessBlock))
		add(put(g, "s3api", "get-bucket-policy", name, b.Policy))
		add(put(g, "s3api", "get-bucket-versioning", name, b.Versioning))
		add(put(g, "s3api", "get-bucket-acl", name, b.Acl))
		add(put(g, "s3api", "get-bucket-policy-status", name, b.PolicyStatus))
		add(put(g, "s3api", "get-bucket-logging", name, b.Logging))
	}
	for r, rs := range s.Regions {
		if rs == nil {
			continue
		}
		add(os.MkdirAll(filepath.Join(dir, r), 0o700))
		add(put(r, "cloudtrail", "describe-trails", "", rs.DescribeTrails))
		for a, v := range rs.TrailStatus {
			add(put(r, "cloudtrail", "get-trail-status", a, v))
		}
		for a, v := range rs.EventSelectors {
			add(put(r, "cloudtrail", "get-event-selectors", a, v))
		}
		add(put(r, "kms", "list-keys", "", rs.KMSKeys))
		for k, v := range rs.KMSKeyMetadata {
			add(put(r, "kms", "describe-key", k, v))
		}
		for k, v := range rs.KMSKeyRotation {
			add(put(r, "kms", "get-key-rotation-status", k, v))
		}
		add(put(r, "logs", "describe-metric-filters", "", rs.MetricFilters))
		add(put(r, "cloudwatch", "describe-alarms", "", rs.MetricAlarms))
		for tp, v := range rs.SNSSubscriptions {
			add(put(r, "sns", "list-subscriptions-by-topic", tp, v))
		}
		add(put(r, "configservice", "describe-configuration-recorders", "", rs.ConfigRecorders))
		add(put(r, "configservice", "describe-configuration-recorder-status", "", rs.ConfigRecorderStatus))
		add(put(r, "ec2", "describe-vpcs", "", rs.Vpcs))
		add(put(r, "ec2", "describe-flow-logs", "", rs.FlowLogs))
		add(put(r, "ec2", "describe-security-groups", "", rs.SecurityGroups))
		add(put(r, "ec2", "describe-network-acls", "", rs.NetworkAcls))
		add(put(r, "ec2", "describe-instances", "", rs.Instances))
		add(put(r, "ec2", "get-ebs-encryption-by-default", "", rs.EbsEncryptionByDefault))
		add(put(r, "accessanalyzer", "list-analyzers", "", rs.Analyzers))
		add(put(r, "rds", "describe-db-instances", "", rs.DBInstances))
		add(put(r, "efs", "describe-file-systems", "", rs.FileSystems))
		add(put(r, "securityhub", "describe-hub", "", rs.SecurityHub))
	}
	for _, e := range s.Errors {
		sub := orPlaceholder(e.Region, "global")
		svc := map[string]string{"s3": "s3api", "config": "configservice", "access-analyzer": "accessanalyzer"}[e.Service]
		svc = orPlaceholder(svc, e.Service)
		add(os.MkdirAll(filepath.Join(dir, sub), 0o700))
		name := strings.TrimSuffix(cliFile(svc, cliOp(e.Operation), e.Resource), ".json") + ".error"
		code, msg, ok := strings.Cut(e.Message, ": ")
		if !ok {
			code, msg = "Error", e.Message
		}
		add(os.WriteFile(filepath.Join(dir, sub, name), []byte(fmt.Sprintf("\nAn error occurred (%s) when calling the %s operation: %s\n", code, e.Operation, msg)), 0o600))
	}
	return errors.Join(errs...)
}

// apiOp turns a CLI operation name into the API's: get-trail-status →
// GetTrailStatus.
func apiOp(op string) string {
	var b strings.Builder
	for _, part := range strings.Split(op, "-") {
		if part != "" {
			if part == "db" { // DescribeDBInstances
				part = "DB"
			}
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// cliOp turns an API operation name into the CLI's: GetTrailStatus →
// get-trail-status.
func cliOp(op string) string {
	rs := []rune(op)
	lower := func(r rune) bool { return r >= 'a' && r <= 'z' || r >= '0' && r <= '9' }
	var b strings.Builder
	for i, r := range rs {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && (lower(rs[i-1]) || i+1 < len(rs) && lower(rs[i+1])) {
				b.WriteByte('-')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isNilPtr(v any) bool {
	b, _ := json.Marshal(v)
	return string(b) == "null"
}

// PrintCLI writes the bash script that runs, read-only, the AWS CLI
// commands of a snapshot into a folder (default iamlens-snapshot), in
// every enabled region or those given. Run it in CloudShell, zip the
// folder, and evaluate it with iamlens cis --snapshot FOLDER.
func PrintCLI(w io.Writer, regions []string) error {
	_, err := io.WriteString(w, strings.Replace(cliScript, "__REGIONS__", strings.Join(regions, " "), 1))
	return err
}
