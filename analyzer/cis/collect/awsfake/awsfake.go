// Package awsfake is an in-process fake of the AWS APIs that iamlens
// collect reads, for tests: httptest servers that answer each service's
// wire protocol (JSON 1.1 for CloudTrail, KMS, Logs and Config; Query/XML
// for IAM and STS; EC2 Query; S3 REST/XML; REST-JSON for Access Analyzer;
// RPCv2-CBOR for CloudWatch), with pagination, throttling on the first calls
// of a few operations, and a region (BadRegion) where every call fails.
// Its IAM also answers the account-state reads of package iamstate/live
// (GAAD pages with URL-encoded documents, the credential report's states,
// each user's access keys and MFA devices); SetIAM makes the report stay
// in progress or denies operations. With SetKeys its IAM holds access keys
// that UpdateAccessKey and DeleteAccessKey change (the writes of `iamlens
// keys apply`).
package awsfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// Service names, as package collect names them.
const (
	ServiceAccessAnalyzer = "access-analyzer"
	ServiceCloudTrail     = "cloudtrail"
	ServiceCloudWatch     = "cloudwatch"
	ServiceLogs           = "logs"
	ServiceConfig         = "config"
	ServiceEC2            = "ec2"
	ServiceIAM            = "iam"
	ServiceKMS            = "kms"
	ServiceS3             = "s3"
	ServiceSTS            = "sts"
)

// Account is the fake account.
const Account = "111122223333"

const acct = Account

// fakeAWS answers each service's wire protocol from httptest servers: the
// JSON 1.1 services (CloudTrail, KMS, Logs, Config) by X-Amz-Target, the
// Query/XML ones (IAM, EC2, STS) by Action, S3 REST/XML by sub-resource,
// Access Analyzer REST-JSON, and CloudWatch's RPCv2-CBOR with an empty map.
// It counts calls per service, operation and region, throttles the first
// calls of a few operations, pages through a few lists, and fails every
// call in the region badRegion.
// AWS is the fake. Calls counts calls by "service:Operation:region".
type AWS struct {
	mu       sync.Mutex
	calls    map[string]int // "service:Op:region"
	throttle map[string]int // "service:Op:region" → throttles left
	servers  map[string]*httptest.Server
	mux      *httptest.Server
	iamOpts  IAMOptions
	// keys, when set by SetKeys, are the access keys IAM holds, by ID.
	keys map[string]*Key
}

// Key is an access key of the fake IAM's stateful mode (SetKeys).
type Key struct {
	User, ID string
	Status   string // Active or Inactive
	Created  time.Time
	// LastUsed is what GetAccessKeyLastUsed answers (zero: never used).
	LastUsed time.Time
}

// SetKeys makes the fake's IAM hold these keys: ListAccessKeys,
// GetAccessKeyLastUsed, UpdateAccessKey and DeleteAccessKey then read and
// change them (an unknown key or user is NoSuchEntity).
func (f *AWS) SetKeys(keys ...Key) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys = map[string]*Key{}
	for _, k := range keys {
		k := k
		f.keys[k.ID] = &k
	}
}

// Key returns the key's state; ok is false once it is deleted.
func (f *AWS) Key(id string) (Key, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	k, ok := f.keys[id]
	if !ok {
		return Key{}, false
	}
	return *k, true
}

// UseKey sets a key's last use, as a call with it would.
func (f *AWS) UseKey(id string, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if k, ok := f.keys[id]; ok {
		k.LastUsed = at
	}
}

// DeleteKey deletes a key, as someone else would.
func (f *AWS) DeleteKey(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.keys, id)
}

// Throttle makes the next n calls of "service:Operation:region" fail with
// the service's throttling error.
func (f *AWS) Throttle(key string, n int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.throttle[key] = n
}

// IAMOptions change what the fake's IAM answers.
type IAMOptions struct {
	// ReportInProgress is how many GetCredentialReport calls are answered
	// ReportInProgress (IAM still building the report) before it is
	// served; a negative value answers so forever.
	ReportInProgress int
	// Deny lists IAM operations answered AccessDenied.
	Deny []string
	// Before, when set, runs before each IAM call is answered (a test's
	// way to change the account between two calls).
	Before func(op string, form url.Values)
}

// SetIAM sets the IAM options; call it before the calls.
func (f *AWS) SetIAM(o IAMOptions) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.iamOpts = o
}

// BadRegion answers every regional call with an access error.
const BadRegion = "ap-south-1"

const badRegion = BadRegion

var scopeRE = regexp.MustCompile(`Credential=[^/]+/\d+/([^/]+)/([^/]+)/`)

// New starts one server per service, and a mux that routes by the
// service in the request's signature (for AWS_ENDPOINT_URL). With throttle,
// the first calls of a few operations are throttled.
func New(t testing.TB, throttle bool) *AWS {
	f := &AWS{calls: map[string]int{}, servers: map[string]*httptest.Server{},
		throttle: map[string]int{}}
	if throttle {
		f.throttle = map[string]int{
			"ec2:DescribeSecurityGroups:us-east-1":         2,
			"cloudtrail:GetTrailStatus:us-east-1":          1,
			"kms:ListKeys:eu-west-1":                       1,
			"iam:GetAccountAuthorizationDetails:us-east-1": 1,
		}
	}
	for _, svc := range append([]string{ServiceCloudTrail, ServiceKMS, ServiceLogs, ServiceConfig, ServiceEC2, ServiceIAM, ServiceSTS, ServiceS3, ServiceAccessAnalyzer, ServiceCloudWatch}, moreServices...) {
		svc := svc
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.serve(t, svc, w, r) }))
		t.Cleanup(srv.Close)
		f.servers[svc] = srv
	}
	// The mux: one endpoint for all services, routed by the signing name in
	// the Authorization header's credential scope.
	signing := map[string]string{"monitoring": ServiceCloudWatch, "access-analyzer": ServiceAccessAnalyzer}
	f.mux = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization"))
		if m == nil {
			http.Error(w, "unsigned request", http.StatusForbidden)
			return
		}
		svc := m[2]
		if x, ok := signing[svc]; ok {
			svc = x
		}
		svc = routeMore(svc, r)
		f.serve(t, svc, w, r)
	}))
	t.Cleanup(f.mux.Close)
	return f
}

// URL is the endpoint that serves every service (set AWS_ENDPOINT_URL to it).
// S3 then uses virtual-hosted names that do not resolve: bucket reads fail.
func (f *AWS) URL() string { return f.mux.URL }

// Endpoints maps each service to its server.
func (f *AWS) Endpoints() map[string]string {
	out := map[string]string{}
	for k, s := range f.servers {
		out[k] = s.URL
	}
	return out
}

// Ops counts the calls by "service:Operation", all regions together.
func (f *AWS) Ops() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for k, n := range f.calls {
		parts := strings.SplitN(k, ":", 3)
		out[parts[0]+":"+parts[1]] += n
	}
	return out
}

// Count returns the calls of "service:Operation:region".
func (f *AWS) Count(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[key]
}

func (f *AWS) serve(t testing.TB, svc string, w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	region := "us-east-1"
	if m := scopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		region = m[1]
	}
	var op string
	var form url.Values
	switch svc {
	case ServiceCloudTrail, ServiceKMS, ServiceLogs, ServiceConfig:
		tgt := r.Header.Get("X-Amz-Target")
		op = tgt[strings.LastIndex(tgt, ".")+1:]
	case ServiceEC2, ServiceIAM, ServiceSTS:
		form, _ = url.ParseQuery(string(body))
		if len(form) == 0 {
			form = r.URL.Query()
		}
		op = form.Get("Action")
	case ServiceCloudWatch:
		op = r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
	case ServiceAccessAnalyzer:
		op = "ListAnalyzers"
	case ServiceS3:
		q := r.URL.Query()
		for _, sub := range []string{"location", "acl", "policyStatus", "publicAccessBlock", "logging"} {
			if q.Has(sub) {
				op = map[string]string{"location": "GetBucketLocation", "acl": "GetBucketAcl", "policyStatus": "GetBucketPolicyStatus", "publicAccessBlock": "GetPublicAccessBlock", "logging": "GetBucketLogging"}[sub]
			}
		}
		if op == "" {
			op = s3MoreOp(r)
		}
	default:
		op, form = moreOp(svc, r, body)
	}
	key := svc + ":" + op + ":" + region
	f.mu.Lock()
	f.calls[key]++
	throttled := f.throttle[key] > 0
	if throttled {
		f.throttle[key]--
	}
	f.mu.Unlock()

	if throttled {
		f.error(w, svc, http.StatusBadRequest, map[string]string{ServiceEC2: "RequestLimitExceeded", ServiceIAM: "Throttling"}[svc], "ThrottlingException", "Rate exceeded")
		return
	}
	if region == badRegion && svc != ServiceIAM && svc != ServiceSTS && svc != ServiceS3 {
		f.error(w, svc, http.StatusForbidden, "UnauthorizedOperation", "AccessDeniedException", "region disabled by SCP")
		return
	}
	switch svc {
	case ServiceCloudTrail:
		f.cloudTrail(w, op, region)
	case ServiceKMS:
		f.kms(w, op, region, body)
	case ServiceLogs:
		writeJSON(w, map[string]any{"metricFilters": []any{map[string]any{
			"filterName": "root", "logGroupName": "trail-logs",
			"filterPattern":         `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
			"metricTransformations": []any{map[string]any{"metricName": "RootUse", "metricNamespace": "CIS", "metricValue": "1"}},
		}}})
	case ServiceConfig:
		if op == "DescribeConfigurationRecorders" {
			writeJSON(w, map[string]any{"ConfigurationRecorders": []any{map[string]any{"name": "default", "roleARN": "arn:aws:iam::111122223333:role/config", "recordingGroup": map[string]any{"allSupported": true, "includeGlobalResourceTypes": true}}}})
		} else {
			writeJSON(w, map[string]any{"ConfigurationRecordersStatus": []any{map[string]any{"name": "default", "recording": region == "us-east-1", "lastStatus": "SUCCESS"}}})
		}
	case ServiceCloudWatch:
		f.cloudWatch(w, region)
	case ServiceAccessAnalyzer:
		w.Header().Set("Content-Type", "application/json")
		status := "ACTIVE"
		if region == "eu-west-1" {
			status = "DISABLED"
		}
		fmt.Fprintf(w, `{"analyzers":[{"arn":"arn:aws:access-analyzer:%s:%s:analyzer/a","name":"a","type":"ACCOUNT","status":%q,"createdAt":"2024-01-01T00:00:00Z"}]}`, region, acct, status)
	case ServiceSTS:
		f.sts(w, r, op, form)
	case ServiceIAM:
		f.iam(t, w, op, form)
	case ServiceEC2:
		f.ec2(w, op, region, form)
	case ServiceS3:
		if !f.s3More(w, op, r.URL.Path) {
			f.s3(w, op, r.URL.Path)
		}
	default:
		f.serveMore(t, svc, w, r, op, region, form)
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(v)
}

func xmlOK(w http.ResponseWriter, op, ns, inner string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><%sResult>%s</%sResult><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></%sResponse>`, op, ns, op, inner, op, op)
}

// xmlNoResult answers a Query call that returns nothing, as IAM does.
func xmlNoResult(w http.ResponseWriter, op, ns string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata></%sResponse>`, op, ns, op)
}

func (f *AWS) error(w http.ResponseWriter, svc string, status int, queryCode, jsonCode, msg string) {
	switch svc {
	case ServiceEC2:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors><RequestID>r</RequestID></Response>`, queryCode, msg)
	case ServiceIAM, ServiceSTS, ServiceRDS, ServiceSNS:
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r</RequestId></ErrorResponse>`, queryCode, msg)
	case ServiceS3, ServiceS3Control:
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<Error><Code>%s</Code><Message>%s</Message></Error>`, queryCode, msg)
	case ServiceCloudWatch:
		w.WriteHeader(status) // no CBOR error body: the SDK reports the status
	default:
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Errortype", jsonCode)
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"__type":%q,"message":%q}`, jsonCode, msg)
	}
}

// TrailARN is the ARN of a trail of the fake account in us-east-1.
func TrailARN(name string) string { return "arn:aws:cloudtrail:us-east-1:" + acct + ":trail/" + name }

func (f *AWS) cloudTrail(w http.ResponseWriter, op, region string) {
	switch op {
	case "DescribeTrails":
		// The multi-region trail appears in every region (a shadow trail
		// outside us-east-1); the organization trail belongs to another
		// account and writes to a bucket this account cannot read.
		writeJSON(w, map[string]any{"trailList": []any{
			map[string]any{"Name": "main", "TrailARN": TrailARN("main"), "HomeRegion": "us-east-1", "IsMultiRegionTrail": true, "S3BucketName": "trail-bucket",
				"LogFileValidationEnabled": true, "KmsKeyId": "arn:aws:kms:us-east-1:111122223333:key/k1", "IncludeGlobalServiceEvents": true,
				"CloudWatchLogsLogGroupArn": "arn:aws:logs:us-east-1:111122223333:log-group:trail-logs:*"},
			map[string]any{"Name": "org", "TrailARN": "arn:aws:cloudtrail:us-east-1:999988887777:trail/org", "HomeRegion": "us-east-1", "IsMultiRegionTrail": true,
				"IsOrganizationTrail": true, "S3BucketName": "central-logs", "LogFileValidationEnabled": false},
		}})
	case "GetTrailStatus":
		writeJSON(w, map[string]any{"IsLogging": true, "LatestDeliveryTime": 1763640000.5, "LatestCloudWatchLogsDeliveryTime": 1763640000})
	case "GetEventSelectors":
		writeJSON(w, map[string]any{"TrailARN": TrailARN("main"), "EventSelectors": []any{map[string]any{"ReadWriteType": "All", "IncludeManagementEvents": true,
			"DataResources": []any{map[string]any{"Type": "AWS::S3::Object", "Values": []string{"arn:aws:s3"}}}}}})
	}
}

func (f *AWS) kms(w http.ResponseWriter, op, region string, body []byte) {
	var in struct{ KeyId, Marker string }
	json.Unmarshal(body, &in)
	switch op {
	case "ListKeys":
		// Two pages.
		if in.Marker == "" {
			writeJSON(w, map[string]any{"Keys": []any{map[string]any{"KeyId": "k1", "KeyArn": "arn:aws:kms:" + region + ":" + acct + ":key/k1"}}, "Truncated": true, "NextMarker": "page2"})
			return
		}
		writeJSON(w, map[string]any{"Keys": []any{map[string]any{"KeyId": "k2", "KeyArn": "arn:aws:kms:" + region + ":" + acct + ":key/k2"}}, "Truncated": false})
	case "DescribeKey":
		manager := "CUSTOMER"
		if in.KeyId == "k2" {
			manager = "AWS"
		}
		writeJSON(w, map[string]any{"KeyMetadata": map[string]any{"KeyId": in.KeyId, "Arn": "arn:aws:kms:" + region + ":" + acct + ":key/" + in.KeyId,
			"KeyManager": manager, "KeyState": "Enabled", "KeySpec": "SYMMETRIC_DEFAULT", "KeyUsage": "ENCRYPT_DECRYPT", "CreationDate": 1700000000}})
	case "GetKeyRotationStatus":
		writeJSON(w, map[string]any{"KeyRotationEnabled": region == "us-east-1"})
	}
}

const iamNS = "https://iam.amazonaws.com/doc/2010-05-08/"

// Alice's access keys: the first is the credential report's access key 1;
// the second was created after the report was generated.
const (
	AliceKey1 = "AKIAALICEKEY1EXAMPLE"
	AliceKey2 = "AKIAALICEKEY2EXAMPLE"
)

func (f *AWS) iam(t testing.TB, w http.ResponseWriter, op string, form url.Values) {
	f.mu.Lock()
	opts := f.iamOpts
	f.mu.Unlock()
	for _, d := range opts.Deny {
		if d == op {
			f.error(w, ServiceIAM, http.StatusForbidden, "AccessDenied", "", "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: iam:"+op)
			return
		}
	}
	if opts.Before != nil {
		opts.Before(op, form)
	}
	f.mu.Lock()
	stateful := f.keys != nil
	f.mu.Unlock()
	if stateful && f.keyCall(w, op, form) {
		return
	}
	switch op {
	case "GenerateCredentialReport":
		state := "COMPLETE"
		if f.Count("iam:GenerateCredentialReport:us-east-1") == 1 {
			state = "STARTED" // the first call starts it; the next finds it done
		}
		xmlOK(w, op, iamNS, "<State>"+state+"</State><Description>x</Description>")
	case "GetCredentialReport":
		if n := f.Count("iam:GetCredentialReport:us-east-1"); opts.ReportInProgress < 0 || n <= opts.ReportInProgress {
			f.error(w, ServiceIAM, http.StatusNotFound, "ReportInProgress", "", "Report is being generated")
			return
		}
		csv := "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n" +
			"<root_account>,arn:aws:iam::111122223333:root,2020-01-01T00:00:00+00:00,not_supported,2024-01-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
			"alice,arn:aws:iam::111122223333:user/alice,2024-01-01T00:00:00+00:00,true,2026-11-19T00:00:00+00:00,2024-01-01T00:00:00+00:00,N/A,false,true,2026-10-01T00:00:00+00:00,2026-11-19T08:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
		xmlOK(w, op, iamNS, "<Content>"+base64.StdEncoding.EncodeToString([]byte(csv))+"</Content><ReportFormat>text/csv</ReportFormat><GeneratedTime>2026-11-20T11:00:00Z</GeneratedTime>")
	case "GetAccountPasswordPolicy":
		f.error(w, ServiceIAM, http.StatusNotFound, "NoSuchEntity", "", "The Password Policy with domain name 111122223333 cannot be found.")
	case "GetAccountSummary":
		xmlOK(w, op, iamNS, "<SummaryMap><entry><key>AccountMFAEnabled</key><value>1</value></entry><entry><key>AccountAccessKeysPresent</key><value>0</value></entry></SummaryMap>")
	case "ListVirtualMFADevices":
		xmlOK(w, op, iamNS, "<IsTruncated>false</IsTruncated><VirtualMFADevices><member><SerialNumber>arn:aws:iam::111122223333:mfa/root-account-mfa-device</SerialNumber><User><Arn>arn:aws:iam::111122223333:root</Arn><UserId>111122223333</UserId><UserName></UserName><Path>/</Path><CreateDate>2020-01-01T00:00:00Z</CreateDate></User></member></VirtualMFADevices>")
	case "GetAccountAuthorizationDetails":
		// Documents are URL-encoded, as IAM returns them. Page 1: alice (in
		// group devs, bounded by god, with an inline policy) and devs;
		// page 2: the support role and the policy god.
		doc := url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}`)
		inline := url.QueryEscape(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["s3:GetObject","s3:ListBucket"],"Resource":["arn:aws:s3:::team-data","arn:aws:s3:::team-data/*"]}}`)
		trust := url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]}`)
		if form.Get("Marker") == "" {
			xmlOK(w, op, iamNS, `<IsTruncated>true</IsTruncated><Marker>m2</Marker><UserDetailList><member><UserName>alice</UserName><Arn>arn:aws:iam::111122223333:user/alice</Arn><UserId>AIDA1</UserId><Path>/</Path><CreateDate>2024-01-01T00:00:00Z</CreateDate>`+
				`<AttachedManagedPolicies><member><PolicyName>god</PolicyName><PolicyArn>arn:aws:iam::111122223333:policy/god</PolicyArn></member></AttachedManagedPolicies>`+
				`<UserPolicyList><member><PolicyName>team-data</PolicyName><PolicyDocument>`+inline+`</PolicyDocument></member></UserPolicyList><GroupList><member>devs</member></GroupList>`+
				`<PermissionsBoundary><PermissionsBoundaryType>PermissionsBoundaryPolicy</PermissionsBoundaryType><PermissionsBoundaryArn>arn:aws:iam::111122223333:policy/god</PermissionsBoundaryArn></PermissionsBoundary>`+
				`<Tags><member><Key>team</Key><Value>platform</Value></member></Tags></member></UserDetailList>`+
				`<GroupDetailList><member><GroupName>devs</GroupName><GroupId>AGPA1</GroupId><Arn>arn:aws:iam::111122223333:group/eng/devs</Arn><Path>/eng/</Path><CreateDate>2024-01-01T00:00:00Z</CreateDate>`+
				`<GroupPolicyList><member><PolicyName>read-logs</PolicyName><PolicyDocument>`+url.QueryEscape(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"logs:GetLogEvents","Resource":"*"}]}`)+`</PolicyDocument></member></GroupPolicyList>`+
				`<AttachedManagedPolicies><member><PolicyName>ReadOnlyAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/ReadOnlyAccess</PolicyArn></member></AttachedManagedPolicies></member></GroupDetailList><RoleDetailList/><Policies/>`)
			return
		}
		if form.Get("Marker") != "m2" {
			t.Errorf("GAAD marker %q", form.Get("Marker"))
		}
		xmlOK(w, op, iamNS, `<IsTruncated>false</IsTruncated><UserDetailList/><GroupDetailList/><RoleDetailList><member><RoleName>aws-support</RoleName><Arn>arn:aws:iam::111122223333:role/aws-support</Arn><RoleId>AROA1</RoleId><Path>/</Path><CreateDate>2024-01-01T00:00:00Z</CreateDate>`+
			`<AssumeRolePolicyDocument>`+trust+`</AssumeRolePolicyDocument>`+
			`<InstanceProfileList><member><InstanceProfileName>support</InstanceProfileName><InstanceProfileId>AIPA1</InstanceProfileId><Arn>arn:aws:iam::111122223333:instance-profile/support</Arn><Path>/</Path><CreateDate>2024-01-01T00:00:00Z</CreateDate><Roles/></member></InstanceProfileList>`+
			`<RolePolicyList/><AttachedManagedPolicies><member><PolicyName>AWSSupportAccess</PolicyName><PolicyArn>arn:aws:iam::aws:policy/AWSSupportAccess</PolicyArn></member></AttachedManagedPolicies>`+
			`<Tags/><RoleLastUsed><LastUsedDate>2026-11-01T10:00:00Z</LastUsedDate><Region>eu-west-1</Region></RoleLastUsed></member></RoleDetailList>`+
			`<Policies><member><PolicyName>god</PolicyName><Arn>arn:aws:iam::111122223333:policy/god</Arn><PolicyId>P1</PolicyId><Path>/</Path><DefaultVersionId>v1</DefaultVersionId><AttachmentCount>1</AttachmentCount><PermissionsBoundaryUsageCount>1</PermissionsBoundaryUsageCount><IsAttachable>true</IsAttachable><CreateDate>2024-01-01T00:00:00Z</CreateDate><UpdateDate>2024-01-01T00:00:00Z</UpdateDate><PolicyVersionList><member><Document>`+doc+`</Document><VersionId>v1</VersionId><IsDefaultVersion>true</IsDefaultVersion><CreateDate>2024-01-01T00:00:00Z</CreateDate></member></PolicyVersionList></member></Policies>`)
	case "ListAccessKeys":
		// One key a page.
		if form.Get("UserName") != "alice" {
			xmlOK(w, op, iamNS, `<AccessKeyMetadata/><IsTruncated>false</IsTruncated>`)
			return
		}
		if form.Get("Marker") == "" {
			xmlOK(w, op, iamNS, `<AccessKeyMetadata><member><UserName>alice</UserName><AccessKeyId>`+AliceKey1+`</AccessKeyId><Status>Active</Status><CreateDate>2026-10-01T00:00:00Z</CreateDate></member></AccessKeyMetadata><IsTruncated>true</IsTruncated><Marker>k2</Marker>`)
			return
		}
		xmlOK(w, op, iamNS, `<AccessKeyMetadata><member><UserName>alice</UserName><AccessKeyId>`+AliceKey2+`</AccessKeyId><Status>Inactive</Status><CreateDate>2026-11-20T11:30:00Z</CreateDate></member></AccessKeyMetadata><IsTruncated>false</IsTruncated>`)
	case "GetAccessKeyLastUsed":
		if form.Get("AccessKeyId") == AliceKey1 {
			xmlOK(w, op, iamNS, `<UserName>alice</UserName><AccessKeyLastUsed><LastUsedDate>2026-11-19T08:00:00Z</LastUsedDate><ServiceName>s3</ServiceName><Region>us-east-1</Region></AccessKeyLastUsed>`)
			return
		}
		xmlOK(w, op, iamNS, `<UserName>alice</UserName><AccessKeyLastUsed><ServiceName>N/A</ServiceName><Region>N/A</Region></AccessKeyLastUsed>`)
	case "ListMFADevices":
		if form.Get("UserName") != "alice" {
			xmlOK(w, op, iamNS, `<MFADevices/><IsTruncated>false</IsTruncated>`)
			return
		}
		xmlOK(w, op, iamNS, `<MFADevices><member><UserName>alice</UserName><SerialNumber>arn:aws:iam::111122223333:mfa/alice-phone</SerialNumber><EnableDate>2025-03-01T00:00:00Z</EnableDate></member></MFADevices><IsTruncated>false</IsTruncated>`)
	case "ListEntitiesForPolicy":
		if strings.HasSuffix(form.Get("PolicyArn"), "/AWSSupportAccess") {
			xmlOK(w, op, iamNS, "<IsTruncated>false</IsTruncated><PolicyRoles><member><RoleName>aws-support</RoleName><RoleId>AROA1</RoleId></member></PolicyRoles><PolicyUsers/><PolicyGroups/>")
			return
		}
		xmlOK(w, op, iamNS, "<IsTruncated>false</IsTruncated><PolicyRoles/><PolicyUsers/><PolicyGroups/>")
	case "ListAccountAliases":
		xmlOK(w, op, iamNS, "<AccountAliases><member>fake-main</member></AccountAliases><IsTruncated>false</IsTruncated>")
	case "ListServerCertificates":
		xmlOK(w, op, iamNS, "<IsTruncated>false</IsTruncated><ServerCertificateMetadataList/>")
	default:
		t.Errorf("unexpected IAM call %s", op)
		f.error(w, ServiceIAM, 400, "InvalidAction", "", op)
	}
}

// keyCall answers the access-key calls from the stateful keys; it reports
// whether op was one of them.
func (f *AWS) keyCall(w http.ResponseWriter, op string, form url.Values) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	user, id := form.Get("UserName"), form.Get("AccessKeyId")
	k := f.keys[id]
	if k != nil && user != "" && k.User != user {
		k = nil
	}
	noSuchKey := func() {
		f.error(w, ServiceIAM, http.StatusNotFound, "NoSuchEntity", "", "The Access Key with id "+id+" cannot be found.")
	}
	switch op {
	case "ListAccessKeys":
		var b strings.Builder
		ids := make([]string, 0, len(f.keys))
		for kid, kk := range f.keys {
			if kk.User == user {
				ids = append(ids, kid)
			}
		}
		sort.Strings(ids)
		for _, kid := range ids {
			kk := f.keys[kid]
			fmt.Fprintf(&b, "<member><UserName>%s</UserName><AccessKeyId>%s</AccessKeyId><Status>%s</Status><CreateDate>%s</CreateDate></member>",
				kk.User, kk.ID, kk.Status, kk.Created.UTC().Format(time.RFC3339))
		}
		xmlOK(w, op, iamNS, "<AccessKeyMetadata>"+b.String()+"</AccessKeyMetadata><IsTruncated>false</IsTruncated>")
	case "GetAccessKeyLastUsed":
		if k == nil {
			noSuchKey()
			return true
		}
		last := "<ServiceName>N/A</ServiceName><Region>N/A</Region>"
		if !k.LastUsed.IsZero() {
			last = "<LastUsedDate>" + k.LastUsed.UTC().Format(time.RFC3339) + "</LastUsedDate><ServiceName>s3</ServiceName><Region>us-east-1</Region>"
		}
		xmlOK(w, op, iamNS, "<UserName>"+k.User+"</UserName><AccessKeyLastUsed>"+last+"</AccessKeyLastUsed>")
	case "UpdateAccessKey":
		if k == nil {
			noSuchKey()
			return true
		}
		k.Status = form.Get("Status")
		xmlNoResult(w, op, iamNS)
	case "DeleteAccessKey":
		if k == nil {
			noSuchKey()
			return true
		}
		delete(f.keys, id)
		xmlNoResult(w, op, iamNS)
	default:
		return false
	}
	return true
}

const ec2NS = "http://ec2.amazonaws.com/doc/2016-11-15/"

func ec2OK(w http.ResponseWriter, op, inner string) {
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<%sResponse xmlns="%s"><requestId>r</requestId>%s</%sResponse>`, op, ec2NS, inner, op)
}

func (f *AWS) ec2(w http.ResponseWriter, op, region string, form url.Values) {
	if f.ec2More(w, op, region) {
		return
	}
	switch op {
	case "DescribeRegions":
		ec2OK(w, op, `<regionInfo>
<item><regionName>us-east-1</regionName><regionEndpoint>x</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
<item><regionName>eu-west-1</regionName><regionEndpoint>x</regionEndpoint><optInStatus>opt-in-not-required</optInStatus></item>
<item><regionName>ap-south-1</regionName><regionEndpoint>x</regionEndpoint><optInStatus>opted-in</optInStatus></item>
<item><regionName>ap-east-1</regionName><regionEndpoint>x</regionEndpoint><optInStatus>not-opted-in</optInStatus></item>
</regionInfo>`)
	case "DescribeVpcs":
		ec2OK(w, op, `<vpcSet><item><vpcId>vpc-`+region+`</vpcId><ownerId>111122223333</ownerId><isDefault>true</isDefault><state>available</state></item></vpcSet>`)
	case "DescribeFlowLogs":
		if region == "us-east-1" {
			ec2OK(w, op, `<flowLogSet><item><flowLogId>fl-1</flowLogId><resourceId>vpc-us-east-1</resourceId><trafficType>ALL</trafficType><flowLogStatus>ACTIVE</flowLogStatus></item></flowLogSet>`)
			return
		}
		ec2OK(w, op, `<flowLogSet/>`)
	case "DescribeNetworkAcls":
		// The default NACL admits everything from anywhere.
		ec2OK(w, op, `<networkAclSet><item><networkAclId>acl-`+region+`</networkAclId><vpcId>vpc-`+region+`</vpcId><default>true</default><entrySet>
<item><ruleNumber>100</ruleNumber><protocol>-1</protocol><ruleAction>allow</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock></item>
<item><ruleNumber>32767</ruleNumber><protocol>-1</protocol><ruleAction>deny</ruleAction><egress>false</egress><cidrBlock>0.0.0.0/0</cidrBlock></item>
</entrySet></item></networkAclSet>`)
	case "DescribeSecurityGroups":
		// Two pages: the default group, then an open admin group.
		if form.Get("NextToken") == "" {
			ec2OK(w, op, `<securityGroupInfo><item><ownerId>111122223333</ownerId><groupId>sg-default</groupId><groupName>default</groupName><vpcId>vpc-`+region+`</vpcId><ipPermissions/><ipPermissionsEgress/></item></securityGroupInfo><nextToken>p2</nextToken>`)
			return
		}
		ec2OK(w, op, `<securityGroupInfo><item><ownerId>111122223333</ownerId><groupId>sg-ssh</groupId><groupName>ssh</groupName><vpcId>vpc-`+region+`</vpcId>
<ipPermissions><item><ipProtocol>tcp</ipProtocol><fromPort>22</fromPort><toPort>22</toPort><ipRanges><item><cidrIp>0.0.0.0/0</cidrIp></item></ipRanges><ipv6Ranges/><groups/><prefixListIds/></item></ipPermissions>
<ipPermissionsEgress/></item></securityGroupInfo>`)
	}
}

func (f *AWS) s3(w http.ResponseWriter, op, path string) {
	bucket := strings.Trim(path, "/")
	if bucket == "central-logs" {
		f.error(w, ServiceS3, http.StatusForbidden, "AccessDenied", "", "Access Denied")
		return
	}
	w.Header().Set("Content-Type", "application/xml")
	switch op {
	case "GetBucketLocation":
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-west-1</LocationConstraint>`)
	case "GetBucketAcl":
		fmt.Fprint(w, `<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Owner><ID>owner</ID></Owner><AccessControlList>
<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>owner</ID></Grantee><Permission>FULL_CONTROL</Permission></Grant>
<Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
</AccessControlList></AccessControlPolicy>`)
	case "GetBucketPolicyStatus":
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<Error><Code>NoSuchBucketPolicy</Code><Message>The bucket policy does not exist</Message></Error>`)
	case "GetPublicAccessBlock":
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `<Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>none</Message></Error>`)
	case "GetBucketLogging":
		fmt.Fprint(w, `<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><LoggingEnabled><TargetBucket>access-logs</TargetBucket><TargetPrefix>trail/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>`)
	}
}
