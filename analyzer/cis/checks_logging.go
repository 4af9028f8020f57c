package cis

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

func loggingChecks() []Check {
	return []Check{
		{ID: "cloudtrail-multi-region", Title: "Ensure CloudTrail is enabled in all regions", Section: "Logging", Level: 1, Severity: High,
			eval: evalMultiRegionTrail},
		{ID: "cloudtrail-log-validation", Title: "Ensure CloudTrail log file validation is enabled", Section: "Logging", Level: 2, Severity: Medium,
			eval: evalLogValidation},
		{ID: "cloudtrail-bucket-not-public", Title: "Ensure the S3 bucket used to store CloudTrail logs is not publicly accessible", Section: "Logging", Level: 1, Severity: Critical,
			eval: evalBucketNotPublic},
		{ID: "cloudtrail-cloudwatch-logs", Title: "Ensure CloudTrail trails are integrated with CloudWatch Logs", Section: "Logging", Level: 1, Severity: Low,
			eval: evalCloudWatchIntegration},
		{ID: "config-enabled-all-regions", Title: "Ensure AWS Config is enabled in all regions", Section: "Logging", Level: 2, Severity: Medium,
			eval: evalConfig},
		{ID: "cloudtrail-bucket-access-logging", Title: "Ensure S3 bucket access logging is enabled on the CloudTrail S3 bucket", Section: "Logging", Level: 1, Severity: Low,
			eval: evalBucketLogging},
		{ID: "cloudtrail-kms-encryption", Title: "Ensure CloudTrail logs are encrypted at rest using KMS CMKs", Section: "Logging", Level: 2, Severity: Medium,
			eval: evalTrailKMS},
		{ID: "kms-key-rotation", Title: "Ensure rotation for customer-created symmetric CMKs is enabled", Section: "Logging", Level: 2, Severity: Medium,
			eval: evalKMSRotation},
		{ID: "vpc-flow-logs", Title: "Ensure VPC flow logging is enabled in all VPCs", Section: "Logging", Level: 2, Severity: Medium,
			eval: evalFlowLogs},
		{ID: "s3-object-write-logging", Title: "Ensure that object-level logging for write events is enabled for S3 buckets", Section: "Logging", Level: 2, Severity: Low,
			eval: evalObjectLogging(false)},
		{ID: "s3-object-read-logging", Title: "Ensure that object-level logging for read events is enabled for S3 buckets", Section: "Logging", Level: 2, Severity: Low,
			eval: evalObjectLogging(true)},
	}
}

// logsManagementEvents reports whether the selectors record all management
// events, reads and writes.
func logsManagementEvents(sel *EventSelectorsOutput) bool {
	if sel == nil {
		return false
	}
	for _, s := range sel.EventSelectors {
		inc := s.IncludeManagementEvents == nil || *s.IncludeManagementEvents
		if inc && (s.ReadWriteType == "" || s.ReadWriteType == "All") {
			return true
		}
	}
	for _, a := range sel.AdvancedEventSelectors {
		mgmt, narrowed := false, false
		for _, f := range a.FieldSelectors {
			switch {
			case f.Field == "eventCategory" && contains(f.Equals, "Management"):
				mgmt = true
			case f.Field == "eventCategory":
			default:
				narrowed = true // readOnly, eventSource exclusions...
			}
		}
		if mgmt && !narrowed {
			return true
		}
	}
	return false
}

// logsAllS3Objects reports whether the selectors record S3 object-level
// read (read true) or write events for every bucket.
func logsAllS3Objects(sel *EventSelectorsOutput, read bool) bool {
	if sel == nil {
		return false
	}
	want := "WriteOnly"
	if read {
		want = "ReadOnly"
	}
	for _, s := range sel.EventSelectors {
		if s.ReadWriteType != "" && s.ReadWriteType != "All" && s.ReadWriteType != want {
			continue
		}
		for _, d := range s.DataResources {
			if d.Type != "AWS::S3::Object" {
				continue
			}
			for _, v := range d.Values {
				if v == "arn:aws:s3" || v == "arn:aws:s3:::" || v == "arn:aws-us-gov:s3" || v == "arn:aws-cn:s3" {
					return true
				}
			}
		}
	}
	for _, a := range sel.AdvancedEventSelectors {
		data, s3obj, ok := false, false, true
		for _, f := range a.FieldSelectors {
			switch f.Field {
			case "eventCategory":
				data = contains(f.Equals, "Data")
			case "resources.type":
				s3obj = contains(f.Equals, "AWS::S3::Object")
			case "readOnly":
				if len(f.Equals) > 0 && !contains(f.Equals, fmt.Sprint(read)) {
					ok = false
				}
				if contains(f.NotEquals, fmt.Sprint(read)) {
					ok = false
				}
			default:
				ok = false // narrowed to some buckets or events
			}
		}
		if data && s3obj && ok {
			return true
		}
	}
	return false
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// noTrails is the finding when no trail was listed at all.
func (e *env) noTrails() []Finding {
	for _, r := range e.s.EnabledRegions() {
		if rs := e.s.Regions[r]; rs != nil && rs.DescribeTrails != nil {
			return nil
		}
	}
	return []Finding{notAssessable("", e.rootARN(), notRead(e.s, "", "cloudtrail", "DescribeTrails", "the trail list"))}
}

const createTrailFix = "aws s3api create-bucket --bucket <TRAIL_BUCKET> --region us-east-1   # with the bucket policy CloudTrail needs\naws cloudtrail create-trail --name iamlens-cis --s3-bucket-name <TRAIL_BUCKET> --is-multi-region-trail --include-global-service-events --enable-log-file-validation --kms-key-id <KMS_KEY_ARN> --region us-east-1\naws cloudtrail start-logging --name iamlens-cis --region us-east-1"

func evalMultiRegionTrail(e *env) []Finding {
	if na := e.noTrails(); na != nil {
		return na
	}
	var unknown, seen []string
	for _, t := range e.trails {
		if !t.IsMultiRegionTrail {
			seen = append(seen, t.Name+" (single-region)")
			continue
		}
		if t.Status == nil || t.Selectors == nil {
			unknown = append(unknown, t.TrailARN)
			continue
		}
		if t.Status.IsLogging && logsManagementEvents(t.Selectors) {
			return []Finding{pass(t.HomeRegion, t.TrailARN, "multi-region trail "+t.Name+" is logging all management events (read and write)")}
		}
		seen = append(seen, fmt.Sprintf("%s (logging=%v, all management events=%v)", t.Name, t.Status.IsLogging, logsManagementEvents(t.Selectors)))
	}
	if len(unknown) > 0 {
		return []Finding{notAssessable("", unknown[0], fmt.Sprintf("no trail is known to pass; the status or event selectors of %s could not be read (an organization trail is checked in its management account)", strings.Join(unknown, ", ")))}
	}
	ev := "no multi-region trail logs all management events"
	if len(seen) > 0 {
		ev += "; trails: " + strings.Join(seen, ", ")
	}
	fix := createTrailFix
	for _, t := range e.trails {
		if !t.Foreign {
			fix = fmt.Sprintf("aws cloudtrail update-trail --name %s --is-multi-region-trail --include-global-service-events --region %s\naws cloudtrail put-event-selectors --trail-name %s --event-selectors '[{\"ReadWriteType\":\"All\",\"IncludeManagementEvents\":true}]' --region %s\naws cloudtrail start-logging --name %s --region %s",
				t.TrailARN, t.HomeRegion, t.TrailARN, t.HomeRegion, t.TrailARN, t.HomeRegion)
			break
		}
	}
	return []Finding{fail("", e.rootARN(), ev, fix)}
}

// eachTrail runs fn on every trail, or reports that there is none.
func (e *env) eachTrail(fn func(t trailView) Finding) []Finding {
	if na := e.noTrails(); na != nil {
		return na
	}
	if len(e.trails) == 0 {
		return []Finding{fail("", e.rootARN(), "the account has no trail", createTrailFix)}
	}
	var out []Finding
	for _, t := range e.trails {
		out = append(out, fn(t))
	}
	return out
}

func evalLogValidation(e *env) []Finding {
	return e.eachTrail(func(t trailView) Finding {
		if t.LogFileValidationEnabled {
			return pass(t.HomeRegion, t.TrailARN, "LogFileValidationEnabled is true")
		}
		return fail(t.HomeRegion, t.TrailARN, "LogFileValidationEnabled is false",
			fmt.Sprintf("aws cloudtrail update-trail --name %s --enable-log-file-validation --region %s", t.TrailARN, t.HomeRegion))
	})
}

func evalTrailKMS(e *env) []Finding {
	return e.eachTrail(func(t trailView) Finding {
		if t.KmsKeyId != "" {
			return pass(t.HomeRegion, t.TrailARN, "encrypted with "+t.KmsKeyId)
		}
		return fail(t.HomeRegion, t.TrailARN, "KmsKeyId is not set (SSE-S3 only)",
			fmt.Sprintf("# the key policy must let cloudtrail.amazonaws.com use the key\naws cloudtrail update-trail --name %s --kms-key-id <KMS_KEY_ARN> --region %s", t.TrailARN, t.HomeRegion))
	})
}

func (e *env) bucketARN(name string) string { return fmt.Sprintf("arn:%s:s3:::%s", e.part, name) }

// trailBucket returns the trail's bucket outputs, or a NOT_ASSESSABLE
// finding (the bucket may live in another account: organization trails and
// central logging accounts).
func (e *env) trailBucket(t trailView) (*Bucket, *Finding) {
	b := e.s.Buckets[t.S3BucketName]
	if b == nil {
		f := notAssessable(t.HomeRegion, e.bucketARN(t.S3BucketName), fmt.Sprintf("trail %s writes to bucket %s, which is not in the snapshot (it may belong to another account)", t.Name, t.S3BucketName))
		if ce := e.s.failedResource("s3", t.S3BucketName); ce != nil {
			f.Evidence = fmt.Sprintf("trail %s writes to bucket %s, which could not be read (%s: %s); it may belong to another account", t.Name, t.S3BucketName, ce.Operation, ce.Message)
		}
		return nil, &f
	}
	return b, nil
}

func (s *Snapshot) failedResource(service, resource string) *CollectError {
	for i := range s.Errors {
		if s.Errors[i].Service == service && s.Errors[i].Resource == resource {
			return &s.Errors[i]
		}
	}
	return nil
}

func evalBucketNotPublic(e *env) []Finding {
	done := map[string]bool{}
	return e.eachTrailBucket(done, func(t trailView, b *Bucket) Finding {
		arn := e.bucketARN(t.S3BucketName)
		fix := fmt.Sprintf("aws s3api put-public-access-block --bucket %s --public-access-block-configuration BlockPublicAcls=true,IgnorePublicAcls=true,BlockPublicPolicy=true,RestrictPublicBuckets=true", t.S3BucketName)
		if pab := b.PublicAccessBlock; pab != nil && pab.PublicAccessBlockConfiguration != nil {
			c := pab.PublicAccessBlockConfiguration
			if c.BlockPublicAcls && c.IgnorePublicAcls && c.BlockPublicPolicy && c.RestrictPublicBuckets {
				return pass(b.Region, arn, "the bucket's public access block is fully on")
			}
		}
		if b.Acl == nil || b.PolicyStatus == nil {
			return notAssessable(b.Region, arn, "the bucket ACL or policy status could not be read")
		}
		var public []string
		for _, g := range b.Acl.Grants {
			if strings.HasSuffix(g.Grantee.URI, "/global/AllUsers") || strings.HasSuffix(g.Grantee.URI, "/global/AuthenticatedUsers") {
				public = append(public, fmt.Sprintf("ACL grants %s to %s", g.Permission, g.Grantee.URI))
			}
		}
		if ps := b.PolicyStatus.PolicyStatus; ps != nil && ps.IsPublic {
			public = append(public, "GetBucketPolicyStatus: IsPublic is true")
		}
		if len(public) > 0 {
			return fail(b.Region, arn, strings.Join(public, "; "), fix)
		}
		return pass(b.Region, arn, "no public ACL grant and the bucket policy is not public")
	})
}

// eachTrailBucket runs fn once per distinct trail bucket.
func (e *env) eachTrailBucket(done map[string]bool, fn func(t trailView, b *Bucket) Finding) []Finding {
	if na := e.noTrails(); na != nil {
		return na
	}
	if len(e.trails) == 0 {
		return []Finding{fail("", e.rootARN(), "the account has no trail", createTrailFix)}
	}
	var out []Finding
	for _, t := range e.trails {
		if t.S3BucketName == "" || done[t.S3BucketName] {
			continue
		}
		done[t.S3BucketName] = true
		b, na := e.trailBucket(t)
		if na != nil {
			out = append(out, *na)
			continue
		}
		out = append(out, fn(t, b))
	}
	return out
}

func evalBucketLogging(e *env) []Finding {
	return e.eachTrailBucket(map[string]bool{}, func(t trailView, b *Bucket) Finding {
		arn := e.bucketARN(t.S3BucketName)
		if b.Logging == nil {
			return notAssessable(b.Region, arn, "GetBucketLogging was not read")
		}
		if le := b.Logging.LoggingEnabled; le != nil {
			return pass(b.Region, arn, "access logs go to s3://"+le.TargetBucket+"/"+le.TargetPrefix)
		}
		return fail(b.Region, arn, "server access logging is off",
			fmt.Sprintf("aws s3api put-bucket-logging --bucket %s --bucket-logging-status '{\"LoggingEnabled\":{\"TargetBucket\":\"<ACCESS_LOG_BUCKET>\",\"TargetPrefix\":\"%s/\"}}'", t.S3BucketName, t.S3BucketName))
	})
}

func evalCloudWatchIntegration(e *env) []Finding {
	return e.eachTrail(func(t trailView) Finding {
		fix := fmt.Sprintf("aws logs create-log-group --log-group-name cloudtrail --region %s\naws cloudtrail update-trail --name %s --cloud-watch-logs-log-group-arn arn:%s:logs:%s:%s:log-group:cloudtrail:* --cloud-watch-logs-role-arn <CLOUDTRAIL_TO_LOGS_ROLE_ARN> --region %s",
			t.HomeRegion, t.TrailARN, e.part, t.HomeRegion, e.acct, t.HomeRegion)
		if t.CloudWatchLogsLogGroupArn == "" {
			return fail(t.HomeRegion, t.TrailARN, "CloudWatchLogsLogGroupArn is not set", fix)
		}
		if t.Status == nil {
			return notAssessable(t.HomeRegion, t.TrailARN, "delivers to "+t.CloudWatchLogsLogGroupArn+" but the trail status could not be read")
		}
		last := t.Status.LatestCloudWatchLogsDeliveryTime
		if last.IsZero() || e.now.Sub(last.Time) > 24*time.Hour {
			return fail(t.HomeRegion, t.TrailARN, fmt.Sprintf("delivers to %s but the last delivery was %s (more than a day ago)", t.CloudWatchLogsLogGroupArn, fmtTime(last)),
				fmt.Sprintf("# check the role's trust and permissions, then:\naws cloudtrail update-trail --name %s --cloud-watch-logs-log-group-arn %s --cloud-watch-logs-role-arn %s --region %s", t.TrailARN, t.CloudWatchLogsLogGroupArn, orPlaceholder(t.CloudWatchLogsRoleArn, "<CLOUDTRAIL_TO_LOGS_ROLE_ARN>"), t.HomeRegion))
		}
		return pass(t.HomeRegion, t.TrailARN, fmt.Sprintf("delivers to %s, last at %s", t.CloudWatchLogsLogGroupArn, fmtTime(last)))
	})
}

func fmtTime(t Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func orPlaceholder(s, p string) string {
	if s == "" {
		return p
	}
	return s
}

func evalConfig(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		arn := e.regionARN(r)
		if rs.ConfigRecorders == nil || rs.ConfigRecorderStatus == nil {
			return []Finding{notAssessable(r, arn, notRead(e.s, r, "config", "", "the configuration recorders"))}
		}
		fix := fmt.Sprintf("aws configservice put-configuration-recorder --configuration-recorder name=default,roleARN=arn:%s:iam::%s:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig --recording-group allSupported=true,includeGlobalResourceTypes=true --region %s\naws configservice put-delivery-channel --delivery-channel name=default,s3BucketName=<CONFIG_BUCKET> --region %s\naws configservice start-configuration-recorder --configuration-recorder-name default --region %s",
			e.part, e.acct, r, r, r)
		if len(rs.ConfigRecorders.ConfigurationRecorders) == 0 {
			return []Finding{fail(r, arn, "no configuration recorder", fix)}
		}
		rec := rs.ConfigRecorders.ConfigurationRecorders[0]
		arn = fmt.Sprintf("arn:%s:config:%s:%s:config-recorder/%s", e.part, r, e.acct, rec.Name)
		var problems []string
		if rec.RecordingGroup == nil || !rec.RecordingGroup.AllSupported {
			problems = append(problems, "recordingGroup.allSupported is false")
		}
		recording := false
		for _, st := range rs.ConfigRecorderStatus.ConfigurationRecordersStatus {
			if st.Name == rec.Name {
				recording = st.Recording
				if st.LastStatus == "FAILURE" {
					problems = append(problems, "lastStatus is FAILURE")
				}
			}
		}
		if !recording {
			problems = append(problems, "the recorder is not recording")
		}
		if len(problems) > 0 {
			fix = strings.ReplaceAll(fix, "name=default", "name="+rec.Name)
			fix = strings.ReplaceAll(fix, "--configuration-recorder-name default", "--configuration-recorder-name "+rec.Name)
			return []Finding{fail(r, arn, strings.Join(problems, "; "), fix)}
		}
		return []Finding{pass(r, arn, "recorder "+rec.Name+" records all supported resources")}
	})
}

func evalKMSRotation(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		if rs.KMSKeys == nil {
			return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "kms", "ListKeys", "the key list"))}
		}
		var out []Finding
		n := 0
		for _, k := range rs.KMSKeys.Keys {
			md := rs.KMSKeyMetadata[k.KeyId]
			if md == nil {
				out = append(out, notAssessable(r, k.KeyArn, notRead(e.s, r, "kms", "DescribeKey", "the key's metadata")))
				continue
			}
			m := md.KeyMetadata
			if m.KeyManager != "CUSTOMER" || m.KeyState != "Enabled" || (m.KeySpec != "" && m.KeySpec != "SYMMETRIC_DEFAULT") || m.Origin == "EXTERNAL" {
				continue
			}
			n++
			rot := rs.KMSKeyRotation[k.KeyId]
			switch {
			case rot == nil:
				out = append(out, notAssessable(r, k.KeyArn, notRead(e.s, r, "kms", "GetKeyRotationStatus", "the key's rotation status")))
			case !rot.KeyRotationEnabled:
				out = append(out, fail(r, k.KeyArn, "customer-managed symmetric key without automatic rotation",
					fmt.Sprintf("aws kms enable-key-rotation --key-id %s --region %s", k.KeyId, r)))
			default:
				out = append(out, pass(r, k.KeyArn, "automatic rotation is on"))
			}
		}
		if len(out) == 0 {
			out = append(out, pass(r, e.regionARN(r), fmt.Sprintf("no enabled customer-managed symmetric key among %d keys", len(rs.KMSKeys.Keys))))
		}
		return out
	})
}

func evalFlowLogs(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		if rs.Vpcs == nil || rs.FlowLogs == nil {
			return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "ec2", "DescribeFlowLogs", "the VPCs and flow logs"))}
		}
		var out []Finding
		for _, v := range rs.Vpcs.Vpcs {
			arn := fmt.Sprintf("arn:%s:ec2:%s:%s:vpc/%s", e.part, r, e.acct, v.VpcId)
			var ok string
			for _, fl := range rs.FlowLogs.FlowLogs {
				if fl.ResourceId == v.VpcId && (fl.TrafficType == "ALL" || fl.TrafficType == "REJECT") && (fl.FlowLogStatus == "" || fl.FlowLogStatus == "ACTIVE") {
					ok = fl.FlowLogId + " (" + fl.TrafficType + ")"
				}
			}
			if ok != "" {
				out = append(out, pass(r, arn, "flow log "+ok))
				continue
			}
			out = append(out, fail(r, arn, "no active flow log recording REJECT or ALL traffic",
				fmt.Sprintf("aws ec2 create-flow-logs --resource-type VPC --resource-ids %s --traffic-type REJECT --log-destination-type cloud-watch-logs --log-group-name vpc-flow-logs --deliver-logs-permission-arn <FLOW_LOGS_ROLE_ARN> --region %s", v.VpcId, r)))
		}
		if len(out) == 0 {
			out = append(out, pass(r, e.regionARN(r), "no VPC"))
		}
		return out
	})
}

func evalObjectLogging(read bool) func(*env) []Finding {
	kind, flag := "write", "false"
	if read {
		kind, flag = "read", "true"
	}
	return func(e *env) []Finding {
		if na := e.noTrails(); na != nil {
			return na
		}
		var unknown []string
		for _, t := range e.trails {
			if !t.IsMultiRegionTrail {
				continue
			}
			if t.Selectors == nil || t.Status == nil {
				unknown = append(unknown, t.TrailARN)
				continue
			}
			if t.Status.IsLogging && logsAllS3Objects(t.Selectors, read) {
				return []Finding{pass(t.HomeRegion, t.TrailARN, fmt.Sprintf("multi-region trail %s logs S3 object-level %s events for all buckets", t.Name, kind))}
			}
		}
		if len(unknown) > 0 {
			return []Finding{notAssessable("", unknown[0], "the event selectors of "+strings.Join(unknown, ", ")+" could not be read")}
		}
		sel, _ := json.Marshal([]any{
			map[string]any{"Name": "Management events", "FieldSelectors": []any{map[string]any{"Field": "eventCategory", "Equals": []string{"Management"}}}},
			map[string]any{"Name": "S3 object " + kind + "s", "FieldSelectors": []any{
				map[string]any{"Field": "eventCategory", "Equals": []string{"Data"}},
				map[string]any{"Field": "resources.type", "Equals": []string{"AWS::S3::Object"}},
				map[string]any{"Field": "readOnly", "Equals": []string{flag}},
			}},
		})
		trail, region := "<TRAIL_NAME>", "<HOME_REGION>"
		for _, t := range e.trails {
			if t.IsMultiRegionTrail && !t.Foreign {
				trail, region = t.TrailARN, t.HomeRegion
				break
			}
		}
		return []Finding{fail("", e.rootARN(), "no logging multi-region trail records S3 object-level "+kind+" events for all buckets",
			fmt.Sprintf("# put-event-selectors replaces the trail's selectors: merge with any data selectors it already has\naws cloudtrail put-event-selectors --trail-name %s --region %s --advanced-event-selectors '%s'", trail, region, sel))}
	}
}
