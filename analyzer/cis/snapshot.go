package cis

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// SnapshotFormat names the snapshot layout; ReadSnapshot accepts files
// without it (hand-assembled ones) and rejects other values.
const SnapshotFormat = iamstate.SnapshotFormat

// Time reads the time forms AWS outputs use (iamstate.Time).
type Time = iamstate.Time

// Snapshot is everything the checks read, as AWS itself returns it: each
// field holds the JSON output of one AWS CLI command (the same shapes the
// SDK's output structs marshal to), so a user can assemble a snapshot with
// the AWS CLI alone. Regional outputs live under Regions[region].
//
// A nil field means "not read" (the check that needs it is NOT_ASSESSABLE);
// an empty object means "read, and empty" (for example a passwordPolicy of
// {} is an account without a password policy).
type Snapshot struct {
	Format    string `json:"format,omitempty"`
	AccountID string `json:"accountId"`
	// AccountName is the account's name when known (its Organizations
	// name, else its IAM alias).
	AccountName string `json:"accountName,omitempty"`
	Partition   string `json:"partition,omitempty"`
	CollectedAt Time   `json:"collectedAt"`
	// DescribeRegions is `aws ec2 describe-regions` (enabled regions only).
	DescribeRegions *DescribeRegionsOutput `json:"describeRegions,omitempty"`
	IAM             IAM                    `json:"iam"`
	Regions         map[string]*Region     `json:"regions,omitempty"`
	// ListBuckets is `aws s3api list-buckets`: the storage checks judge
	// every bucket it lists.
	ListBuckets *ListBucketsOutput `json:"listBuckets,omitempty"`
	// S3AccountPublicAccessBlock is `aws s3control get-public-access-block
	// --account-id ACCOUNT`; {} when the account has none.
	S3AccountPublicAccessBlock *PublicAccessBlockOutput `json:"s3AccountPublicAccessBlock,omitempty"`
	// Buckets holds the S3 outputs of each bucket (those ListBuckets lists
	// and those the trails write to), keyed by bucket name.
	Buckets map[string]*Bucket `json:"buckets,omitempty"`
	// Errors lists the reads that failed; checks needing them report
	// NOT_ASSESSABLE rather than FAIL.
	Errors []CollectError `json:"errors,omitempty"`
}

// CollectError is one failed read.
type CollectError struct {
	Region    string `json:"region,omitempty"`
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Resource  string `json:"resource,omitempty"`
	Message   string `json:"message"`
}

// IAM holds the global IAM outputs: the account state's (iamstate.Outputs:
// the credential report, the authorization details, the virtual MFA
// devices, and each user's keys and MFA devices when read) and those only
// the checks read.
type IAM struct {
	iamstate.Outputs
	// PasswordPolicy is `aws iam get-account-password-policy`; {} when the
	// account has none (the CLI's NoSuchEntity error).
	PasswordPolicy     *PasswordPolicyOutput               `json:"passwordPolicy,omitempty"`
	AccountSummary     *AccountSummaryOutput               `json:"accountSummary,omitempty"`
	EntitiesForPolicy  map[string]*EntitiesForPolicyOutput `json:"entitiesForPolicy,omitempty"`
	ServerCertificates *ServerCertificatesOutput           `json:"serverCertificates,omitempty"`
}

// Region holds one region's outputs.
type Region struct {
	// DescribeTrails is `aws cloudtrail describe-trails --include-shadow-trails`.
	DescribeTrails *DescribeTrailsOutput `json:"describeTrails,omitempty"`
	// TrailStatus and EventSelectors are keyed by trail ARN; they are read
	// in the trail's home region.
	TrailStatus          map[string]*TrailStatus             `json:"trailStatus,omitempty"`
	EventSelectors       map[string]*EventSelectorsOutput    `json:"eventSelectors,omitempty"`
	KMSKeys              *ListKeysOutput                     `json:"kmsKeys,omitempty"`
	KMSKeyMetadata       map[string]*DescribeKeyOutput       `json:"kmsKeyMetadata,omitempty"` // by KeyId
	KMSKeyRotation       map[string]*KeyRotationStatusOutput `json:"kmsKeyRotation,omitempty"` // by KeyId
	MetricFilters        *DescribeMetricFiltersOutput        `json:"metricFilters,omitempty"`
	MetricAlarms         *DescribeAlarmsOutput               `json:"metricAlarms,omitempty"`
	ConfigRecorders      *ConfigRecordersOutput              `json:"configRecorders,omitempty"`
	ConfigRecorderStatus *ConfigRecorderStatusOutput         `json:"configRecorderStatus,omitempty"`
	Vpcs                 *DescribeVpcsOutput                 `json:"vpcs,omitempty"`
	FlowLogs             *DescribeFlowLogsOutput             `json:"flowLogs,omitempty"`
	SecurityGroups       *DescribeSecurityGroupsOutput       `json:"securityGroups,omitempty"`
	NetworkAcls          *DescribeNetworkAclsOutput          `json:"networkAcls,omitempty"`
	Analyzers            *ListAnalyzersOutput                `json:"analyzers,omitempty"`
	// Instances is `aws ec2 describe-instances` (instance profiles for the
	// instance-roles control, metadata options for IMDSv2).
	Instances *DescribeInstancesOutput `json:"instances,omitempty"`
	// EbsEncryptionByDefault is `aws ec2 get-ebs-encryption-by-default`.
	EbsEncryptionByDefault *EbsEncryptionByDefaultOutput `json:"ebsEncryptionByDefault,omitempty"`
	// DBInstances is `aws rds describe-db-instances`.
	DBInstances *DescribeDBInstancesOutput `json:"dbInstances,omitempty"`
	// FileSystems is `aws efs describe-file-systems`.
	FileSystems *DescribeFileSystemsOutput `json:"fileSystems,omitempty"`
	// SecurityHub is `aws securityhub describe-hub`; {} when Security Hub
	// is not enabled in the region (the CLI's InvalidAccessException).
	SecurityHub *DescribeHubOutput `json:"securityHub,omitempty"`
	// SNSSubscriptions is `aws sns list-subscriptions-by-topic
	// --topic-arn ARN` for each SNS topic an alarm of the region notifies,
	// keyed by topic ARN.
	SNSSubscriptions map[string]*ListSubscriptionsByTopicOutput `json:"snsSubscriptions,omitempty"`
}

// Bucket holds the S3 outputs of one bucket.
type Bucket struct {
	Region            string                   `json:"region,omitempty"`
	Acl               *BucketAclOutput         `json:"acl,omitempty"`
	PolicyStatus      *PolicyStatusOutput      `json:"policyStatus,omitempty"`      // {} when the bucket has no policy
	PublicAccessBlock *PublicAccessBlockOutput `json:"publicAccessBlock,omitempty"` // {} when none is set
	Logging           *BucketLoggingOutput     `json:"logging,omitempty"`
	// Policy is `aws s3api get-bucket-policy`; {} when the bucket has no
	// policy (NoSuchBucketPolicy).
	Policy *BucketPolicyOutput `json:"policy,omitempty"`
	// Versioning is `aws s3api get-bucket-versioning`.
	Versioning *BucketVersioningOutput `json:"versioning,omitempty"`
}

// --- EC2 -------------------------------------------------------------------

type DescribeRegionsOutput struct {
	Regions []struct {
		RegionName  string `json:"RegionName"`
		OptInStatus string `json:"OptInStatus,omitempty"`
	} `json:"Regions"`
}

type DescribeVpcsOutput struct {
	Vpcs []struct {
		VpcId     string `json:"VpcId"`
		OwnerId   string `json:"OwnerId,omitempty"`
		IsDefault bool   `json:"IsDefault,omitempty"`
	} `json:"Vpcs"`
}

type DescribeFlowLogsOutput struct {
	FlowLogs []struct {
		FlowLogId     string `json:"FlowLogId"`
		ResourceId    string `json:"ResourceId"`
		TrafficType   string `json:"TrafficType,omitempty"`
		FlowLogStatus string `json:"FlowLogStatus,omitempty"`
	} `json:"FlowLogs"`
}

type DescribeSecurityGroupsOutput struct {
	SecurityGroups []SecurityGroup `json:"SecurityGroups"`
}

type SecurityGroup struct {
	GroupId             string         `json:"GroupId"`
	GroupName           string         `json:"GroupName"`
	OwnerId             string         `json:"OwnerId,omitempty"`
	VpcId               string         `json:"VpcId,omitempty"`
	IpPermissions       []IpPermission `json:"IpPermissions"`
	IpPermissionsEgress []IpPermission `json:"IpPermissionsEgress"`
}

type IpPermission struct {
	IpProtocol string `json:"IpProtocol"`
	FromPort   *int32 `json:"FromPort,omitempty"`
	ToPort     *int32 `json:"ToPort,omitempty"`
	IpRanges   []struct {
		CidrIp string `json:"CidrIp"`
	} `json:"IpRanges,omitempty"`
	Ipv6Ranges []struct {
		CidrIpv6 string `json:"CidrIpv6"`
	} `json:"Ipv6Ranges,omitempty"`
	UserIdGroupPairs []struct {
		GroupId string `json:"GroupId,omitempty"`
		UserId  string `json:"UserId,omitempty"`
	} `json:"UserIdGroupPairs,omitempty"`
	PrefixListIds []struct {
		PrefixListId string `json:"PrefixListId"`
	} `json:"PrefixListIds,omitempty"`
}

type DescribeNetworkAclsOutput struct {
	NetworkAcls []NetworkAcl `json:"NetworkAcls"`
}

type NetworkAcl struct {
	NetworkAclId string `json:"NetworkAclId"`
	VpcId        string `json:"VpcId,omitempty"`
	IsDefault    bool   `json:"IsDefault,omitempty"`
	Entries      []struct {
		RuleNumber    int    `json:"RuleNumber"`
		Protocol      string `json:"Protocol"`
		RuleAction    string `json:"RuleAction"`
		Egress        bool   `json:"Egress"`
		CidrBlock     string `json:"CidrBlock,omitempty"`
		Ipv6CidrBlock string `json:"Ipv6CidrBlock,omitempty"`
		PortRange     *struct {
			From int32 `json:"From"`
			To   int32 `json:"To"`
		} `json:"PortRange,omitempty"`
	} `json:"Entries"`
}

type DescribeInstancesOutput struct {
	Reservations []struct {
		OwnerId   string     `json:"OwnerId,omitempty"`
		Instances []Instance `json:"Instances"`
	} `json:"Reservations"`
}

type Instance struct {
	InstanceId         string `json:"InstanceId"`
	InstanceType       string `json:"InstanceType,omitempty"`
	IamInstanceProfile *struct {
		Arn string `json:"Arn"`
		Id  string `json:"Id,omitempty"`
	} `json:"IamInstanceProfile,omitempty"`
	MetadataOptions *struct {
		HttpTokens   string `json:"HttpTokens,omitempty"`
		HttpEndpoint string `json:"HttpEndpoint,omitempty"`
		State        string `json:"State,omitempty"`
	} `json:"MetadataOptions,omitempty"`
	State *struct {
		Name string `json:"Name"`
	} `json:"State,omitempty"`
	Tags []struct {
		Key   string `json:"Key"`
		Value string `json:"Value"`
	} `json:"Tags,omitempty"`
}

// Name is the instance's Name tag, or "".
func (i *Instance) Name() string {
	for _, t := range i.Tags {
		if t.Key == "Name" {
			return t.Value
		}
	}
	return ""
}

type EbsEncryptionByDefaultOutput struct {
	EbsEncryptionByDefault bool `json:"EbsEncryptionByDefault"`
}

// --- RDS, EFS, Security Hub, SNS -------------------------------------------

type DescribeDBInstancesOutput struct {
	DBInstances []DBInstance `json:"DBInstances"`
}

type DBInstance struct {
	DBInstanceIdentifier    string `json:"DBInstanceIdentifier"`
	DBInstanceArn           string `json:"DBInstanceArn,omitempty"`
	Engine                  string `json:"Engine,omitempty"`
	DBInstanceStatus        string `json:"DBInstanceStatus,omitempty"`
	StorageEncrypted        bool   `json:"StorageEncrypted"`
	PubliclyAccessible      bool   `json:"PubliclyAccessible"`
	AutoMinorVersionUpgrade bool   `json:"AutoMinorVersionUpgrade"`
	DBClusterIdentifier     string `json:"DBClusterIdentifier,omitempty"`
}

type DescribeFileSystemsOutput struct {
	FileSystems []struct {
		FileSystemId  string `json:"FileSystemId"`
		FileSystemArn string `json:"FileSystemArn,omitempty"`
		Name          string `json:"Name,omitempty"`
		Encrypted     bool   `json:"Encrypted"`
		KmsKeyId      string `json:"KmsKeyId,omitempty"`
	} `json:"FileSystems"`
}

type DescribeHubOutput struct {
	HubArn       string `json:"HubArn,omitempty"`
	SubscribedAt string `json:"SubscribedAt,omitempty"`
}

type ListSubscriptionsByTopicOutput struct {
	Subscriptions []struct {
		SubscriptionArn string `json:"SubscriptionArn"`
		Protocol        string `json:"Protocol,omitempty"`
		Endpoint        string `json:"Endpoint,omitempty"`
		TopicArn        string `json:"TopicArn,omitempty"`
	} `json:"Subscriptions"`
}

// Confirmed lists the subscriptions that are confirmed: their
// SubscriptionArn is an ARN, not PendingConfirmation or Deleted.
func (o *ListSubscriptionsByTopicOutput) Confirmed() []string {
	var out []string
	for _, s := range o.Subscriptions {
		if strings.HasPrefix(s.SubscriptionArn, "arn:") {
			out = append(out, s.Protocol+":"+s.Endpoint)
		}
	}
	return out
}

// --- CloudTrail ------------------------------------------------------------

type DescribeTrailsOutput struct {
	TrailList []Trail `json:"trailList"`
}

type Trail struct {
	Name                       string `json:"Name"`
	TrailARN                   string `json:"TrailARN"`
	HomeRegion                 string `json:"HomeRegion"`
	S3BucketName               string `json:"S3BucketName,omitempty"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	KmsKeyId                   string `json:"KmsKeyId,omitempty"`
	CloudWatchLogsLogGroupArn  string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string `json:"CloudWatchLogsRoleArn,omitempty"`
	HasCustomEventSelectors    bool   `json:"HasCustomEventSelectors,omitempty"`
	HasInsightSelectors        bool   `json:"HasInsightSelectors,omitempty"`
}

type TrailStatus struct {
	IsLogging                        bool   `json:"IsLogging"`
	LatestDeliveryTime               Time   `json:"LatestDeliveryTime,omitzero"`
	LatestCloudWatchLogsDeliveryTime Time   `json:"LatestCloudWatchLogsDeliveryTime,omitzero"`
	LatestDeliveryError              string `json:"LatestDeliveryError,omitempty"`
}

type EventSelectorsOutput struct {
	TrailARN               string                  `json:"TrailARN,omitempty"`
	EventSelectors         []EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors []AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
}

type EventSelector struct {
	ReadWriteType           string `json:"ReadWriteType,omitempty"`
	IncludeManagementEvents *bool  `json:"IncludeManagementEvents,omitempty"`
	DataResources           []struct {
		Type   string   `json:"Type"`
		Values []string `json:"Values"`
	} `json:"DataResources,omitempty"`
	ExcludeManagementEventSources []string `json:"ExcludeManagementEventSources,omitempty"`
}

type AdvancedEventSelector struct {
	Name           string `json:"Name,omitempty"`
	FieldSelectors []struct {
		Field         string   `json:"Field"`
		Equals        []string `json:"Equals,omitempty"`
		NotEquals     []string `json:"NotEquals,omitempty"`
		StartsWith    []string `json:"StartsWith,omitempty"`
		NotStartsWith []string `json:"NotStartsWith,omitempty"`
		EndsWith      []string `json:"EndsWith,omitempty"`
		NotEndsWith   []string `json:"NotEndsWith,omitempty"`
	} `json:"FieldSelectors"`
}

// --- KMS -------------------------------------------------------------------

type ListKeysOutput struct {
	Keys []struct {
		KeyId  string `json:"KeyId"`
		KeyArn string `json:"KeyArn"`
	} `json:"Keys"`
}

type DescribeKeyOutput struct {
	KeyMetadata struct {
		KeyId      string `json:"KeyId"`
		Arn        string `json:"Arn"`
		KeyManager string `json:"KeyManager"`
		KeyState   string `json:"KeyState"`
		KeySpec    string `json:"KeySpec,omitempty"`
		KeyUsage   string `json:"KeyUsage,omitempty"`
		Origin     string `json:"Origin,omitempty"`
	} `json:"KeyMetadata"`
}

type KeyRotationStatusOutput struct {
	KeyRotationEnabled bool `json:"KeyRotationEnabled"`
}

// --- CloudWatch ------------------------------------------------------------

type DescribeMetricFiltersOutput struct {
	MetricFilters []MetricFilter `json:"metricFilters"`
}

type MetricFilter struct {
	FilterName            string `json:"filterName"`
	FilterPattern         string `json:"filterPattern"`
	LogGroupName          string `json:"logGroupName"`
	MetricTransformations []struct {
		MetricName      string `json:"metricName"`
		MetricNamespace string `json:"metricNamespace"`
	} `json:"metricTransformations"`
}

type DescribeAlarmsOutput struct {
	MetricAlarms []struct {
		AlarmName      string   `json:"AlarmName"`
		AlarmArn       string   `json:"AlarmArn,omitempty"`
		MetricName     string   `json:"MetricName"`
		Namespace      string   `json:"Namespace"`
		AlarmActions   []string `json:"AlarmActions"`
		ActionsEnabled *bool    `json:"ActionsEnabled,omitempty"`
	} `json:"MetricAlarms"`
}

// --- Config ----------------------------------------------------------------

type ConfigRecordersOutput struct {
	ConfigurationRecorders []struct {
		Name           string `json:"name"`
		RoleARN        string `json:"roleARN,omitempty"`
		RecordingGroup *struct {
			AllSupported               bool     `json:"allSupported"`
			IncludeGlobalResourceTypes bool     `json:"includeGlobalResourceTypes"`
			ResourceTypes              []string `json:"resourceTypes,omitempty"`
		} `json:"recordingGroup,omitempty"`
	} `json:"ConfigurationRecorders"`
}

type ConfigRecorderStatusOutput struct {
	ConfigurationRecordersStatus []struct {
		Name       string `json:"name"`
		Recording  bool   `json:"recording"`
		LastStatus string `json:"lastStatus,omitempty"`
	} `json:"ConfigurationRecordersStatus"`
}

// --- Access Analyzer -------------------------------------------------------

type ListAnalyzersOutput struct {
	Analyzers []struct {
		Arn    string `json:"arn"`
		Name   string `json:"name"`
		Type   string `json:"type"`
		Status string `json:"status"`
	} `json:"analyzers"`
}

// --- S3 --------------------------------------------------------------------

type BucketAclOutput struct {
	Owner *struct {
		ID string `json:"ID,omitempty"`
	} `json:"Owner,omitempty"`
	Grants []struct {
		Grantee struct {
			Type string `json:"Type"`
			URI  string `json:"URI,omitempty"`
			ID   string `json:"ID,omitempty"`
		} `json:"Grantee"`
		Permission string `json:"Permission"`
	} `json:"Grants"`
}

type PolicyStatusOutput struct {
	PolicyStatus *struct {
		IsPublic bool `json:"IsPublic"`
	} `json:"PolicyStatus,omitempty"`
}

type PublicAccessBlockOutput struct {
	PublicAccessBlockConfiguration *struct {
		BlockPublicAcls       bool `json:"BlockPublicAcls"`
		IgnorePublicAcls      bool `json:"IgnorePublicAcls"`
		BlockPublicPolicy     bool `json:"BlockPublicPolicy"`
		RestrictPublicBuckets bool `json:"RestrictPublicBuckets"`
	} `json:"PublicAccessBlockConfiguration,omitempty"`
}

type BucketLoggingOutput struct {
	LoggingEnabled *struct {
		TargetBucket string `json:"TargetBucket"`
		TargetPrefix string `json:"TargetPrefix"`
	} `json:"LoggingEnabled,omitempty"`
}

type ListBucketsOutput struct {
	Buckets []struct {
		Name         string `json:"Name"`
		CreationDate Time   `json:"CreationDate,omitzero"`
	} `json:"Buckets"`
	Owner *struct {
		ID string `json:"ID,omitempty"`
	} `json:"Owner,omitempty"`
}

// BucketPolicyOutput holds the bucket policy as the text AWS returns.
type BucketPolicyOutput struct {
	Policy string `json:"Policy,omitempty"`
}

type BucketVersioningOutput struct {
	Status    string `json:"Status,omitempty"`
	MFADelete string `json:"MFADelete,omitempty"`
}

// --- IAM -------------------------------------------------------------------

type PasswordPolicyOutput struct {
	PasswordPolicy *PasswordPolicy `json:"PasswordPolicy,omitempty"`
}

type PasswordPolicy struct {
	MinimumPasswordLength      int  `json:"MinimumPasswordLength"`
	RequireSymbols             bool `json:"RequireSymbols"`
	RequireNumbers             bool `json:"RequireNumbers"`
	RequireUppercaseCharacters bool `json:"RequireUppercaseCharacters"`
	RequireLowercaseCharacters bool `json:"RequireLowercaseCharacters"`
	AllowUsersToChangePassword bool `json:"AllowUsersToChangePassword"`
	ExpirePasswords            bool `json:"ExpirePasswords"`
	MaxPasswordAge             int  `json:"MaxPasswordAge,omitempty"`
	PasswordReusePrevention    int  `json:"PasswordReusePrevention,omitempty"`
	HardExpiry                 bool `json:"HardExpiry,omitempty"`
}

type AccountSummaryOutput struct {
	SummaryMap map[string]int `json:"SummaryMap"`
}

type ServerCertificatesOutput struct {
	ServerCertificateMetadataList []struct {
		ServerCertificateName string `json:"ServerCertificateName"`
		Arn                   string `json:"Arn"`
		Expiration            Time   `json:"Expiration"`
	} `json:"ServerCertificateMetadataList"`
}

type EntitiesForPolicyOutput struct {
	PolicyGroups []struct {
		GroupName string `json:"GroupName"`
	} `json:"PolicyGroups"`
	PolicyUsers []struct {
		UserName string `json:"UserName"`
	} `json:"PolicyUsers"`
	PolicyRoles []struct {
		RoleName string `json:"RoleName"`
	} `json:"PolicyRoles"`
}

// Entities lists the attached entities as "user/NAME", "group/NAME" and
// "role/NAME", sorted.
func (e *EntitiesForPolicyOutput) Entities() []string {
	var out []string
	for _, g := range e.PolicyGroups {
		out = append(out, "group/"+g.GroupName)
	}
	for _, u := range e.PolicyUsers {
		out = append(out, "user/"+u.UserName)
	}
	for _, r := range e.PolicyRoles {
		out = append(out, "role/"+r.RoleName)
	}
	sort.Strings(out)
	return out
}

// snapshotOutputs are the members that hold AWS outputs; a snapshot has at
// least one.
var snapshotOutputs = []string{"iam", "regions", "describeRegions", "buckets", "listBuckets", "s3AccountPublicAccessBlock"}

var accountRE = regexp.MustCompile(`^\d{12}$`)

// ReadSnapshot decodes a snapshot. A file that is not one (any other JSON,
// or a snapshot without its account, its time or any output) is refused
// with what is missing.
func ReadSnapshot(r io.Reader) (*Snapshot, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(b, &members); err != nil {
		var probe any
		if json.Unmarshal(b, &probe) == nil {
			return nil, fmt.Errorf("not an iamlens CIS snapshot: the file is a JSON %s, not an object (write one with 'iamlens collect --out FILE')", jsonKind(probe))
		}
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if err := checkShape(members); err != nil {
		return nil, err
	}
	var s Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if s.Format != "" && s.Format != SnapshotFormat {
		return nil, fmt.Errorf("snapshot format %q: this iamlens reads %q", s.Format, SnapshotFormat)
	}
	if s.Regions == nil {
		s.Regions = map[string]*Region{}
	}
	return &s, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// checkShape says what a snapshot lacks: its account ID, its collection
// time, or every AWS output.
func checkShape(m map[string]json.RawMessage) error {
	var missing []string
	var acct string
	if raw, ok := m["accountId"]; !ok || json.Unmarshal(raw, &acct) != nil || acct == "" {
		missing = append(missing, "accountId (the 12-digit account ID)")
	} else if !accountRE.MatchString(acct) {
		return fmt.Errorf("not an iamlens CIS snapshot: accountId %q is not a 12-digit AWS account ID", acct)
	}
	var at string
	if raw, ok := m["collectedAt"]; !ok || string(raw) == "null" || (json.Unmarshal(raw, &at) == nil && at == "") {
		missing = append(missing, `collectedAt (when the outputs were read, e.g. "2026-11-20T12:00:00Z"; the snapshot is judged at that time)`)
	}
	has := false
	for _, k := range snapshotOutputs {
		if raw, ok := m[k]; ok && string(raw) != "null" {
			has = true
		}
	}
	if !has {
		missing = append(missing, "every AWS output (one of "+strings.Join(snapshotOutputs, ", ")+")")
	}
	if len(missing) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	found := "no member"
	if len(keys) > 0 {
		if len(keys) > 8 {
			keys = append(keys[:8], fmt.Sprintf("and %d more", len(keys)-8))
		}
		found = "members " + strings.Join(keys, ", ")
	}
	return fmt.Errorf("not an iamlens CIS snapshot: missing %s; the file has %s (write one with 'iamlens collect --out FILE', or read a folder of AWS CLI outputs: 'iamlens collect --print-cli')",
		strings.Join(missing, "; "), found)
}

// WriteSnapshot encodes s as indented JSON.
func WriteSnapshot(w io.Writer, s *Snapshot) error {
	s.Format = SnapshotFormat
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(s)
}

// EnabledRegions lists the regions the checks must cover: those
// DescribeRegions reports enabled, else those present in Regions. Sorted.
func (s *Snapshot) EnabledRegions() []string {
	var out []string
	if s.DescribeRegions != nil {
		for _, r := range s.DescribeRegions.Regions {
			if r.OptInStatus == "" || r.OptInStatus == "opt-in-not-required" || r.OptInStatus == "opted-in" {
				out = append(out, r.RegionName)
			}
		}
	} else {
		for r := range s.Regions {
			out = append(out, r)
		}
	}
	sort.Strings(out)
	return out
}

// failed returns the first recorded error for service/operation in region
// ("" for global), or nil.
func (s *Snapshot) failed(region, service, operation string) *CollectError {
	for i := range s.Errors {
		e := &s.Errors[i]
		if e.Region == region && e.Service == service && (operation == "" || e.Operation == operation) {
			return e
		}
	}
	return nil
}
