package cis

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// monitor is a CIS monitoring control: a metric filter with this pattern
// on the log group of a multi-region trail, and an alarm on its metric.
type monitor struct {
	id, title string
	level     int
	sev       Severity
	// pattern is the CIS filter pattern, used in the fix. A filter passes
	// when it holds every comparison of core (pattern when empty).
	pattern, core string
	// match reports whether a dataset event is one the filter exists for.
	match func(r *EventRow) bool
}

func monitorChecks() []Check {
	var out []Check
	for _, m := range monitors() {
		m := m
		out = append(out, Check{ID: m.id, Title: m.title, Section: "Monitoring", Level: m.level, Severity: m.sev,
			Guidance: "Filter pattern: " + m.pattern + ". The alarm counts only when an SNS topic it notifies has a confirmed subscriber.", eval: m.eval})
	}
	out = append(out, Check{ID: "securityhub-enabled", Title: "Ensure AWS Security Hub is enabled", Section: "Monitoring", Level: 2, Severity: Medium, eval: evalSecurityHub})
	return out
}

// MonitorPatterns returns the CIS metric filter pattern of each monitoring
// check, by check ID.
func MonitorPatterns() map[string]string {
	out := map[string]string{}
	for _, m := range monitors() {
		out[m.id] = m.pattern
	}
	return out
}

func nameIn(source string, names ...string) func(r *EventRow) bool {
	set := map[string]bool{}
	for _, n := range names {
		set[n] = true
	}
	return func(r *EventRow) bool {
		return set[r.EventName] && (source == "" || r.EventSource == source)
	}
}

func eventNames(source string, names ...string) string {
	var parts []string
	if source != "" {
		parts = append(parts, fmt.Sprintf("($.eventSource = %s)", source))
	}
	var alts []string
	for _, n := range names {
		alts = append(alts, fmt.Sprintf("($.eventName = %s)", n))
	}
	if source != "" {
		parts = append(parts, "("+strings.Join(alts, " || ")+")")
		return "{ " + strings.Join(parts, " && ") + " }"
	}
	return "{ " + strings.Join(alts, " || ") + " }"
}

func monitors() []monitor {
	iamNames := []string{"DeleteGroupPolicy", "DeleteRolePolicy", "DeleteUserPolicy", "PutGroupPolicy", "PutRolePolicy", "PutUserPolicy", "CreatePolicy", "DeletePolicy", "CreatePolicyVersion", "DeletePolicyVersion", "AttachRolePolicy", "DetachRolePolicy", "AttachUserPolicy", "DetachUserPolicy", "AttachGroupPolicy", "DetachGroupPolicy"}
	trailNames := []string{"CreateTrail", "UpdateTrail", "DeleteTrail", "StartLogging", "StopLogging"}
	kmsNames := []string{"DisableKey", "ScheduleKeyDeletion"}
	s3Names := []string{"PutBucketAcl", "PutBucketPolicy", "PutBucketCors", "PutBucketLifecycle", "PutBucketReplication", "DeleteBucketPolicy", "DeleteBucketCors", "DeleteBucketLifecycle", "DeleteBucketReplication"}
	cfgNames := []string{"StopConfigurationRecorder", "DeleteDeliveryChannel", "PutDeliveryChannel", "PutConfigurationRecorder"}
	sgNames := []string{"AuthorizeSecurityGroupIngress", "AuthorizeSecurityGroupEgress", "RevokeSecurityGroupIngress", "RevokeSecurityGroupEgress", "CreateSecurityGroup", "DeleteSecurityGroup"}
	naclNames := []string{"CreateNetworkAcl", "CreateNetworkAclEntry", "DeleteNetworkAcl", "DeleteNetworkAclEntry", "ReplaceNetworkAclEntry", "ReplaceNetworkAclAssociation"}
	gwNames := []string{"CreateCustomerGateway", "DeleteCustomerGateway", "AttachInternetGateway", "CreateInternetGateway", "DeleteInternetGateway", "DetachInternetGateway"}
	rtNames := []string{"CreateRoute", "CreateRouteTable", "ReplaceRoute", "ReplaceRouteTableAssociation", "DeleteRouteTable", "DeleteRoute", "DisassociateRouteTable"}
	vpcNames := []string{"CreateVpc", "DeleteVpc", "ModifyVpcAttribute", "AcceptVpcPeeringConnection", "CreateVpcPeeringConnection", "DeleteVpcPeeringConnection", "RejectVpcPeeringConnection", "AttachClassicLinkVpc", "DetachClassicLinkVpc", "DisableVpcClassicLink", "EnableVpcClassicLink"}
	orgNames := []string{"AcceptHandshake", "AttachPolicy", "CreateAccount", "CreateOrganizationalUnit", "CreatePolicy", "DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy", "DetachPolicy", "DisablePolicyType", "EnablePolicyType", "InviteAccountToOrganization", "LeaveOrganization", "MoveAccount", "RemoveAccountFromOrganization", "UpdatePolicy", "UpdateOrganizationalUnit"}
	return []monitor{
		{id: "monitor-unauthorized-api-calls", title: "Ensure unauthorized API calls are monitored", level: 2, sev: Low,
			pattern: `{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != "delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }`,
			core:    `{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }`,
			match: func(r *EventRow) bool {
				return (strings.HasSuffix(r.ErrorCode, "UnauthorizedOperation") || strings.HasPrefix(r.ErrorCode, "AccessDenied")) &&
					r.SourceIP != "delivery.logs.amazonaws.com" && r.EventName != "HeadBucket"
			}},
		{id: "monitor-console-no-mfa", title: "Ensure management console sign-in without MFA is monitored", level: 1, sev: Low,
			pattern: `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }`,
			core:    `{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }`,
			match: func(r *EventRow) bool {
				if r.EventName != "ConsoleLogin" || r.ErrorCode != "" {
					return false
				}
				var a struct{ MFAUsed string }
				_ = json.Unmarshal([]byte(r.AdditionalEventData), &a)
				var resp struct{ ConsoleLogin string }
				_ = json.Unmarshal([]byte(r.ResponseElements), &resp)
				return a.MFAUsed != "Yes" && resp.ConsoleLogin != "Failure"
			}},
		{id: "monitor-root-usage", title: "Ensure usage of the 'root' account is monitored", level: 1, sev: Low,
			pattern: `{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }`,
			match: func(r *EventRow) bool {
				return r.IdentityType == "Root" && r.InvokedBy == "" && r.EventType != "AwsServiceEvent"
			}},
		{id: "monitor-iam-policy-changes", title: "Ensure IAM policy changes are monitored", level: 1, sev: Low,
			pattern: eventNames("", iamNames...), match: nameIn("iam.amazonaws.com", iamNames...)},
		{id: "monitor-cloudtrail-changes", title: "Ensure CloudTrail configuration changes are monitored", level: 1, sev: Low,
			pattern: eventNames("", trailNames...), match: nameIn("cloudtrail.amazonaws.com", trailNames...)},
		{id: "monitor-console-auth-failures", title: "Ensure AWS Management Console authentication failures are monitored", level: 2, sev: Low,
			pattern: `{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }`,
			match: func(r *EventRow) bool {
				return r.EventName == "ConsoleLogin" && r.ErrorMessage == "Failed authentication"
			}},
		{id: "monitor-kms-disable", title: "Ensure disabling or scheduled deletion of customer created CMKs is monitored", level: 2, sev: Low,
			pattern: eventNames("kms.amazonaws.com", kmsNames...), match: nameIn("kms.amazonaws.com", kmsNames...)},
		{id: "monitor-s3-policy-changes", title: "Ensure S3 bucket policy changes are monitored", level: 1, sev: Low,
			pattern: eventNames("s3.amazonaws.com", s3Names...), match: nameIn("s3.amazonaws.com", s3Names...)},
		{id: "monitor-config-changes", title: "Ensure AWS Config configuration changes are monitored", level: 2, sev: Low,
			pattern: eventNames("config.amazonaws.com", cfgNames...), match: nameIn("config.amazonaws.com", cfgNames...)},
		{id: "monitor-security-group-changes", title: "Ensure security group changes are monitored", level: 2, sev: Low,
			pattern: eventNames("", sgNames...), match: nameIn("ec2.amazonaws.com", sgNames...)},
		{id: "monitor-nacl-changes", title: "Ensure Network Access Control List (NACL) changes are monitored", level: 2, sev: Low,
			pattern: eventNames("", naclNames...), match: nameIn("ec2.amazonaws.com", naclNames...)},
		{id: "monitor-gateway-changes", title: "Ensure changes to network gateways are monitored", level: 1, sev: Low,
			pattern: eventNames("", gwNames...), match: nameIn("ec2.amazonaws.com", gwNames...)},
		{id: "monitor-route-table-changes", title: "Ensure route table changes are monitored", level: 1, sev: Low,
			pattern: eventNames("ec2.amazonaws.com", rtNames...), core: eventNames("", rtNames...), match: nameIn("ec2.amazonaws.com", rtNames...)},
		{id: "monitor-vpc-changes", title: "Ensure VPC changes are monitored", level: 1, sev: Low,
			pattern: eventNames("", vpcNames...), match: nameIn("ec2.amazonaws.com", vpcNames...)},
		{id: "monitor-organizations-changes", title: "Ensure AWS Organizations changes are monitored", level: 1, sev: Low,
			pattern: eventNames("organizations.amazonaws.com", orgNames...), match: nameIn("organizations.amazonaws.com", orgNames...)},
	}
}

var comparisonRE = regexp.MustCompile(`\$\.[A-Za-z0-9_.]+\s*(?:!=|=)\s*(?:"[^"]*"|[^\s)|&}]+)|\$\.[A-Za-z0-9_.]+\s+NOT\s+EXISTS`)

// normTerm makes comparisons comparable: no spaces, no quotes, lower case.
func normTerm(s string) string {
	s = strings.ToLower(s)
	return strings.NewReplacer(" ", "", "\t", "", `"`, "").Replace(s)
}

// terms returns the normalised comparisons of a filter pattern.
func terms(pattern string) map[string]bool {
	out := map[string]bool{}
	for _, m := range comparisonRE.FindAllString(pattern, -1) {
		out[normTerm(m)] = true
	}
	return out
}

// covers reports whether filter holds every comparison of the control.
func (m monitor) covers(filter string) bool {
	core := m.core
	if core == "" {
		core = m.pattern
	}
	have := terms(filter)
	for t := range terms(core) {
		if !have[t] {
			return false
		}
	}
	return true
}

func logGroupName(arn string) string {
	_, rest, ok := strings.Cut(arn, ":log-group:")
	if !ok {
		return ""
	}
	name, _, _ := strings.Cut(rest, ":")
	return name
}

func (m monitor) fix(e *env, group, region string) string {
	name := strings.TrimPrefix(m.id, "monitor-")
	return fmt.Sprintf("aws logs put-metric-filter --log-group-name %s --filter-name cis-%s --metric-transformations metricName=cis-%s,metricNamespace=CISBenchmark,metricValue=1 --filter-pattern %s --region %s\naws cloudwatch put-metric-alarm --alarm-name cis-%s --metric-name cis-%s --namespace CISBenchmark --statistic Sum --period 300 --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold --evaluation-periods 1 --treat-missing-data notBreaching --alarm-actions <SNS_TOPIC_ARN> --region %s",
		shq(group), name, name, shq(m.pattern), region, name, name, region)
}

func (m monitor) eval(e *env) []Finding {
	if na := e.noTrails(); na != nil {
		return na
	}
	var unknown, unknownSubs []string
	var near []string
	var first *trailView
	for i := range e.trails {
		t := &e.trails[i]
		if !t.IsMultiRegionTrail || t.CloudWatchLogsLogGroupArn == "" {
			continue
		}
		if t.Status == nil || t.Selectors == nil {
			unknown = append(unknown, t.TrailARN+" (status or selectors not read)")
			continue
		}
		if !t.Status.IsLogging || !logsManagementEvents(t.Selectors) {
			continue
		}
		region, group := arnRegion(t.CloudWatchLogsLogGroupArn), logGroupName(t.CloudWatchLogsLogGroupArn)
		rs := e.s.Regions[region]
		if rs == nil || rs.MetricFilters == nil || rs.MetricAlarms == nil || t.Foreign {
			unknown = append(unknown, fmt.Sprintf("log group %s in %s (metric filters or alarms not read)", group, region))
			continue
		}
		if first == nil {
			first = t
		}
		for _, f := range rs.MetricFilters.MetricFilters {
			if f.LogGroupName != group || !m.covers(f.FilterPattern) {
				continue
			}
			for _, mt := range f.MetricTransformations {
				alarmed := false
				for _, a := range rs.MetricAlarms.MetricAlarms {
					if a.MetricName != mt.MetricName || a.Namespace != mt.MetricNamespace {
						continue
					}
					alarmed = true
					if len(a.AlarmActions) == 0 || (a.ActionsEnabled != nil && !*a.ActionsEnabled) {
						near = append(near, fmt.Sprintf("filter %s has an alarm without actions", f.FilterName))
						continue
					}
					subs, why, known := e.subscribers(rs, a.AlarmActions)
					if len(subs) > 0 {
						return []Finding{pass(region, orPlaceholder(a.AlarmArn, a.AlarmName), fmt.Sprintf("metric filter %s on log group %s (trail %s) feeds %s/%s; alarm %s notifies %s, confirmed subscribers: %s",
							f.FilterName, group, t.Name, mt.MetricNamespace, mt.MetricName, a.AlarmName, strings.Join(a.AlarmActions, ", "), strings.Join(subs, ", ")))}
					}
					if !known {
						unknownSubs = append(unknownSubs, fmt.Sprintf("alarm %s: %s", a.AlarmName, why))
					} else {
						near = append(near, fmt.Sprintf("alarm %s: %s", a.AlarmName, why))
					}
				}
				if !alarmed {
					near = append(near, fmt.Sprintf("filter %s (%s/%s) has no alarm", f.FilterName, mt.MetricNamespace, mt.MetricName))
				}
			}
		}
	}
	if first == nil {
		if len(unknown) > 0 {
			return []Finding{notAssessable("", e.rootARN(), "cannot tell: "+strings.Join(unknown, "; "))}
		}
		return []Finding{fail("", e.rootARN(), "no logging multi-region trail (with all management events) delivers to CloudWatch Logs",
			"# send a multi-region trail to CloudWatch Logs first:\naws cloudtrail update-trail --name <TRAIL_ARN> --cloud-watch-logs-log-group-arn <LOG_GROUP_ARN> --cloud-watch-logs-role-arn <CLOUDTRAIL_TO_LOGS_ROLE_ARN> --region <HOME_REGION>\n"+m.fix(e, "<LOG_GROUP>", "<LOG_GROUP_REGION>"))}
	}
	if len(unknown) > 0 || len(unknownSubs) > 0 {
		return []Finding{notAssessable("", e.rootARN(), "no alarm with a confirmed subscriber found in what was read; cannot tell for: "+strings.Join(append(unknown, unknownSubs...), "; "))}
	}
	region, group := arnRegion(first.CloudWatchLogsLogGroupArn), logGroupName(first.CloudWatchLogsLogGroupArn)
	ev := fmt.Sprintf("no metric filter with this pattern and alarm notifying a confirmed SNS subscriber on log group %s (trail %s)", group, first.Name)
	if len(near) > 0 {
		ev += ": " + strings.Join(near, "; ")
	}
	return []Finding{fail(region, fmt.Sprintf("arn:%s:logs:%s:%s:log-group:%s", e.part, region, e.acct, group), ev, m.fix(e, group, region))}
}

// subscribers lists the confirmed subscriptions of the SNS topics among an
// alarm's actions. known is false when a topic's subscriptions were not
// read (and none of the others has a confirmed one).
func (e *env) subscribers(rs *Region, actions []string) (subs []string, why string, known bool) {
	known = true
	var topics, pending []string
	for _, a := range actions {
		if !strings.HasPrefix(a, "arn:") || !strings.Contains(a, ":sns:") {
			continue
		}
		topics = append(topics, a)
		out := rs.SNSSubscriptions[a]
		if out == nil {
			known = false
			pending = append(pending, "the subscriptions of "+a+" were not read")
			continue
		}
		c := out.Confirmed()
		subs = append(subs, c...)
		if len(c) == 0 {
			pending = append(pending, fmt.Sprintf("topic %s has no confirmed subscriber (%d pending or none)", a, len(out.Subscriptions)))
		}
	}
	if len(subs) > 0 {
		return subs, "", true
	}
	if len(topics) == 0 {
		return nil, "no action is an SNS topic", true
	}
	return nil, strings.Join(pending, "; "), known
}

func evalSecurityHub(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		arn := e.regionARN(r)
		if rs.SecurityHub == nil {
			return []Finding{notAssessable(r, arn, notRead(e.s, r, "securityhub", "DescribeHub", "the Security Hub status"))}
		}
		if rs.SecurityHub.HubArn != "" {
			return []Finding{pass(r, rs.SecurityHub.HubArn, "Security Hub is enabled (subscribed "+orPlaceholder(rs.SecurityHub.SubscribedAt, "at an unknown time")+")")}
		}
		return []Finding{fail(r, arn, "Security Hub is not enabled in the region", fmt.Sprintf("aws securityhub enable-security-hub --enable-default-standards --region %s", r))}
	})
}
