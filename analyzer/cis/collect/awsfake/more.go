package awsfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/smithy-go/encoding/cbor"
)

// The services of the storage, Security Hub, SNS and organization-wide
// reads, as package collect names them.
const (
	ServiceRDS           = "rds"
	ServiceEFS           = "efs"
	ServiceSecurityHub   = "securityhub"
	ServiceSNS           = "sns"
	ServiceS3Control     = "s3control"
	ServiceOrganizations = "organizations"
)

var moreServices = []string{ServiceRDS, ServiceEFS, ServiceSecurityHub, ServiceSNS, ServiceS3Control, ServiceOrganizations}

// The accounts of the fake organization: the management account (Account)
// and two members. AssumeRole into a member answers credentials whose
// access key ID carries the account, so the calls made with them are
// answered as that account (GetCallerIdentity, the trail ARNs).
const (
	MemberProd    = "444455556666"
	MemberSandbox = "777788889999"
	// MemberSuspended is listed SUSPENDED: an organization-wide run skips it.
	MemberSuspended = "121212121212"
	// MemberNoRole has no role to assume: AssumeRole is denied.
	MemberNoRole = "343434343434"
)

// AlertsTopic is the SNS topic the fake's alarm notifies; its one
// subscription is still pending confirmation.
const AlertsTopic = "arn:aws:sns:us-east-1:" + acct + ":alerts"

var accessKeyRE = regexp.MustCompile(`Credential=ASIAFAKE(\d{12})/`)

// callerAccount is the account a request's credentials belong to.
func callerAccount(r *http.Request) string {
	if m := accessKeyRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	return acct
}

// routeMore sends a request the mux received to the right fake service:
// s3control signs as s3, EFS as elasticfilesystem.
func routeMore(svc string, r *http.Request) string {
	switch {
	case svc == "elasticfilesystem":
		return ServiceEFS
	case svc == ServiceS3 && strings.HasPrefix(r.URL.Path, "/v20180820/"):
		return ServiceS3Control
	}
	return svc
}

func moreOp(svc string, r *http.Request, body []byte) (string, url.Values) {
	switch svc {
	case ServiceRDS, ServiceSNS:
		form, _ := url.ParseQuery(string(body))
		return form.Get("Action"), form
	case ServiceOrganizations:
		tgt := r.Header.Get("X-Amz-Target")
		var in struct{ NextToken string }
		json.Unmarshal(body, &in)
		return tgt[strings.LastIndex(tgt, ".")+1:], url.Values{"NextToken": {in.NextToken}}
	case ServiceEFS:
		return "DescribeFileSystems", r.URL.Query()
	case ServiceSecurityHub:
		return "DescribeHub", nil
	case ServiceS3Control:
		return "GetPublicAccessBlock", nil
	}
	return "", nil
}

// s3MoreOp names the S3 calls that awsfake.go does not: ListBuckets (GET
// on the service), GetBucketPolicy and GetBucketVersioning.
func s3MoreOp(r *http.Request) string {
	q := r.URL.Query()
	switch {
	case q.Has("policy"):
		return "GetBucketPolicy"
	case q.Has("versioning"):
		return "GetBucketVersioning"
	case strings.Trim(r.URL.Path, "/") == "":
		return "ListBuckets"
	}
	return ""
}

// sts answers GetCallerIdentity (as the caller's account) and AssumeRole
// (denied for MemberNoRole).
func (f *AWS) sts(w http.ResponseWriter, r *http.Request, op string, form url.Values) {
	const ns = "https://sts.amazonaws.com/doc/2011-06-15/"
	if op == "AssumeRole" {
		role := form.Get("RoleArn")
		m := regexp.MustCompile(`^arn:aws:iam::(\d{12}):role/(.+)$`).FindStringSubmatch(role)
		if m == nil || m[1] == MemberNoRole {
			f.error(w, ServiceSTS, http.StatusForbidden, "AccessDenied", "", "User: arn:aws:iam::111122223333:user/auditor is not authorized to perform: sts:AssumeRole on resource: "+role)
			return
		}
		xmlOK(w, op, ns, fmt.Sprintf(`<Credentials><AccessKeyId>ASIAFAKE%s</AccessKeyId><SecretAccessKey>secret</SecretAccessKey><SessionToken>token</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>`+
			`<AssumedRoleUser><AssumedRoleId>AROAFAKE:%s</AssumedRoleId><Arn>arn:aws:sts::%s:assumed-role/%s/%s</Arn></AssumedRoleUser>`, m[1], form.Get("RoleSessionName"), m[1], m[2], form.Get("RoleSessionName")))
		return
	}
	a := callerAccount(r)
	caller := "arn:aws:iam::" + a + ":user/auditor"
	if a != acct {
		caller = "arn:aws:sts::" + a + ":assumed-role/audit/iamlens"
	}
	xmlOK(w, "GetCallerIdentity", ns, `<Arn>`+caller+`</Arn><UserId>AIDAEXAMPLE</UserId><Account>`+a+`</Account>`)
}

// cloudWatch answers DescribeAlarms (RPCv2-CBOR): in us-east-1 one alarm on
// the root-use metric, notifying AlertsTopic; elsewhere none.
func (f *AWS) cloudWatch(w http.ResponseWriter, region string) {
	w.Header().Set("Smithy-Protocol", "rpc-v2-cbor")
	w.Header().Set("Content-Type", "application/cbor")
	if region != "us-east-1" {
		w.Write(cbor.Encode(cbor.Map{}))
		return
	}
	w.Write(cbor.Encode(cbor.Map{"MetricAlarms": cbor.List{cbor.Map{
		"AlarmName":      cbor.String("root-use"),
		"AlarmArn":       cbor.String("arn:aws:cloudwatch:us-east-1:" + acct + ":alarm:root-use"),
		"MetricName":     cbor.String("RootUse"),
		"Namespace":      cbor.String("CIS"),
		"ActionsEnabled": cbor.Bool(true),
		"AlarmActions":   cbor.List{cbor.String(AlertsTopic)},
	}}}))
}

const s3NS = "http://s3.amazonaws.com/doc/2006-03-01/"

// s3More answers ListBuckets, GetBucketPolicy, GetBucketVersioning and
// every call on app-data (a bucket in us-east-1 that passes every storage
// control); it returns false to leave a call to awsfake.go.
func (f *AWS) s3More(w http.ResponseWriter, op, path string) bool {
	bucket := strings.Trim(path, "/")
	switch {
	case op == "ListBuckets":
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<ListAllMyBucketsResult xmlns="%s"><Owner><ID>owner</ID></Owner><Buckets><Bucket><Name>app-data</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket><Bucket><Name>trail-bucket</Name><CreationDate>2024-01-01T00:00:00.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>`, s3NS)
		return true
	case bucket == "app-data":
		w.Header().Set("Content-Type", "application/xml")
		switch op {
		case "GetBucketLocation":
			fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><LocationConstraint xmlns="%s"></LocationConstraint>`, s3NS)
		case "GetPublicAccessBlock":
			fmt.Fprintf(w, `<PublicAccessBlockConfiguration xmlns="%s"><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>true</RestrictPublicBuckets></PublicAccessBlockConfiguration>`, s3NS)
		case "GetBucketPolicy":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"Version":"2012-10-17","Statement":[{"Sid":"DenyInsecureTransport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::app-data","arn:aws:s3:::app-data/*"],"Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}`)
		case "GetBucketVersioning":
			fmt.Fprintf(w, `<VersioningConfiguration xmlns="%s"><Status>Enabled</Status><MfaDelete>Enabled</MfaDelete></VersioningConfiguration>`, s3NS)
		default:
			return false
		}
		return true
	case op == "GetBucketPolicy":
		f.error(w, ServiceS3, http.StatusNotFound, "NoSuchBucketPolicy", "", "The bucket policy does not exist")
		return true
	case op == "GetBucketVersioning":
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprintf(w, `<VersioningConfiguration xmlns="%s"><Status>Enabled</Status></VersioningConfiguration>`, s3NS)
		return true
	}
	return false
}

func (f *AWS) serveMore(t testing.TB, svc string, w http.ResponseWriter, r *http.Request, op, region string, form url.Values) {
	switch svc {
	case ServiceRDS:
		// us-east-1: an encrypted, private instance with minor upgrades on;
		// eu-west-1: a public, unencrypted one without. Two pages.
		const ns = "http://rds.amazonaws.com/doc/2014-10-31/"
		db := func(id string, good bool) string {
			return fmt.Sprintf(`<DBInstance><DBInstanceIdentifier>%s</DBInstanceIdentifier><DBInstanceArn>arn:aws:rds:%s:%s:db:%s</DBInstanceArn><Engine>postgres</Engine><DBInstanceStatus>available</DBInstanceStatus>`+
				`<StorageEncrypted>%v</StorageEncrypted><PubliclyAccessible>%v</PubliclyAccessible><AutoMinorVersionUpgrade>%v</AutoMinorVersionUpgrade></DBInstance>`, id, region, acct, id, good, !good, good)
		}
		switch {
		case region == "us-east-1" && form.Get("Marker") == "":
			xmlOK(w, op, ns, `<DBInstances>`+db("orders", true)+`</DBInstances><Marker>p2</Marker>`)
		case region == "us-east-1":
			xmlOK(w, op, ns, `<DBInstances>`+db("billing", true)+`</DBInstances>`)
		default:
			xmlOK(w, op, ns, `<DBInstances>`+db("legacy", false)+`</DBInstances>`)
		}
	case ServiceEFS:
		w.Header().Set("Content-Type", "application/json")
		enc := region == "us-east-1"
		fmt.Fprintf(w, `{"FileSystems":[{"OwnerId":"%s","CreationToken":"t","FileSystemId":"fs-%s","FileSystemArn":"arn:aws:elasticfilesystem:%s:%s:file-system/fs-%s","CreationTime":1700000000,"LifeCycleState":"available","NumberOfMountTargets":1,"SizeInBytes":{"Value":6144},"PerformanceMode":"generalPurpose","Encrypted":%v,"Tags":[]}]}`,
			acct, region, region, acct, region, enc)
	case ServiceSecurityHub:
		if region != "us-east-1" {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-Amzn-Errortype", "InvalidAccessException")
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"Code":"InvalidAccessException","Message":"Account 111122223333 is not subscribed to AWS Security Hub"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"HubArn":"arn:aws:securityhub:us-east-1:%s:hub/default","SubscribedAt":"2024-01-01T00:00:00.000Z","AutoEnableControls":true}`, acct)
	case ServiceSNS:
		const ns = "http://sns.amazonaws.com/doc/2010-03-31/"
		if form.Get("TopicArn") != AlertsTopic {
			t.Errorf("subscriptions of %q read; the alarms notify %s", form.Get("TopicArn"), AlertsTopic)
		}
		xmlOK(w, op, ns, `<Subscriptions><member><TopicArn>`+AlertsTopic+`</TopicArn><Protocol>email</Protocol><SubscriptionArn>PendingConfirmation</SubscriptionArn><Owner>`+acct+`</Owner><Endpoint>secops@example.com</Endpoint></member></Subscriptions>`)
	case ServiceS3Control:
		if got := r.Header.Get("X-Amz-Account-Id"); got != callerAccount(r) {
			t.Errorf("s3control account header %q, want %s", got, callerAccount(r))
		}
		w.Header().Set("Content-Type", "application/xml")
		fmt.Fprint(w, `<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls><BlockPublicPolicy>false</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets></PublicAccessBlockConfiguration>`)
	case ServiceOrganizations:
		f.organizations(w, op, form.Get("NextToken"))
	default:
		t.Errorf("unexpected call %s %s", svc, op)
		http.Error(w, "unknown service", http.StatusBadRequest)
	}
}

// organizations answers ListAccounts in two pages.
func (f *AWS) organizations(w http.ResponseWriter, op, next string) {
	account := func(id, name, status string) map[string]any {
		return map[string]any{"Id": id, "Arn": "arn:aws:organizations::" + acct + ":account/o-example/" + id, "Name": name, "Email": name + "@example.com", "Status": status, "JoinedMethod": "CREATED", "JoinedTimestamp": 1700000000}
	}
	if op != "ListAccounts" {
		f.error(w, ServiceOrganizations, http.StatusBadRequest, "", "InvalidInputException", op)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	if next == "" {
		json.NewEncoder(w).Encode(map[string]any{"Accounts": []any{account(acct, "management", "ACTIVE"), account(MemberProd, "prod", "ACTIVE")}, "NextToken": "page2"})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"Accounts": []any{account(MemberSandbox, "sandbox", "ACTIVE"), account(MemberSuspended, "old", "SUSPENDED"), account(MemberNoRole, "vendor", "ACTIVE")}})
}

// ec2More answers DescribeInstances (us-east-1: one instance with a
// profile and IMDSv2, one without either, one terminated) and
// GetEbsEncryptionByDefault (on in us-east-1 only).
func (f *AWS) ec2More(w http.ResponseWriter, op, region string) bool {
	switch op {
	case "DescribeInstances":
		if region != "us-east-1" {
			ec2OK(w, op, `<reservationSet/>`)
			return true
		}
		inst := func(id, state string, profile bool, tokens string) string {
			p := ""
			if profile {
				p = `<iamInstanceProfile><arn>arn:aws:iam::` + acct + `:instance-profile/web</arn><id>AIPA1</id></iamInstanceProfile>`
			}
			return `<item><instanceId>` + id + `</instanceId><instanceType>t3.micro</instanceType><instanceState><code>16</code><name>` + state + `</name></instanceState>` + p +
				`<metadataOptions><state>applied</state><httpTokens>` + tokens + `</httpTokens><httpEndpoint>enabled</httpEndpoint></metadataOptions>` +
				`<tagSet><item><key>Name</key><value>` + id + `</value></item></tagSet></item>`
		}
		ec2OK(w, op, `<reservationSet><item><reservationId>r-1</reservationId><ownerId>`+acct+`</ownerId><instancesSet>`+
			inst("i-1", "running", true, "required")+inst("i-2", "stopped", false, "optional")+inst("i-3", "terminated", false, "optional")+
			`</instancesSet></item></reservationSet>`)
		return true
	case "GetEbsEncryptionByDefault":
		ec2OK(w, op, fmt.Sprintf(`<ebsEncryptionByDefault>%v</ebsEncryptionByDefault>`, region == "us-east-1"))
		return true
	}
	return false
}
