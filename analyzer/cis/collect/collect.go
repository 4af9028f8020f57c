// Package collect reads, live and read-only, the AWS API outputs the CIS
// checks need into a cis.Snapshot. It is the only part of iamlens cis that
// imports the service clients of aws-sdk-go-v2; the account's IAM state
// (authorization details, credential report, MFA devices) is read through
// package iamstate/live.
//
// Every call is a read (Describe*, Get*, List*), with one exception:
// iam:GenerateCredentialReport, which asks IAM to build the credential
// report if none is fresh; it changes nothing in the account. The minimal
// policy is policy.json beside this file (embedded as Policy).
//
// Regions are read concurrently (Options.Concurrency at a time); each
// failed call is recorded in Snapshot.Errors and leaves its field nil, so
// the checks that need it report NOT_ASSESSABLE. Throttling is retried by
// the SDK's standard retryer (Options.Retryer).
package collect

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/accessanalyzer"
	aatypes "github.com/aws/aws-sdk-go-v2/service/accessanalyzer/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	logstypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
	"github.com/aws/aws-sdk-go-v2/service/configservice"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/analyzer/cis"
	"github.com/iamlens/iamlens/analyzer/iamstate"
	"github.com/iamlens/iamlens/analyzer/iamstate/live"
)

// Policy is the minimal IAM policy Collect needs (policy.json).
//
//go:embed policy.json
var Policy []byte

// Service names, the keys of Options.Endpoints and CollectError.Service.
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
	ServiceRDS            = "rds"
	ServiceEFS            = "efs"
	ServiceSecurityHub    = "securityhub"
	ServiceSNS            = "sns"
	ServiceS3Control      = "s3control"
	// ServiceOrganizations is read by ListAccounts (organization-wide runs).
	ServiceOrganizations = "organizations"
)

// Services lists every service Collect and ListAccounts call, for callers
// that point them all at one endpoint.
var Services = []string{ServiceAccessAnalyzer, ServiceCloudTrail, ServiceCloudWatch, ServiceLogs, ServiceConfig, ServiceEC2, ServiceIAM, ServiceKMS,
	ServiceS3, ServiceSTS, ServiceRDS, ServiceEFS, ServiceSecurityHub, ServiceSNS, ServiceS3Control, ServiceOrganizations}

// Options tune Collect. The zero value reads every enabled region, four at
// a time.
type Options struct {
	// Regions restricts the regions read (all enabled ones when empty).
	Regions []string
	// Concurrency is how many regions are read at once (default 4).
	Concurrency int
	// Endpoints overrides the endpoint of a service (keys: the Service*
	// constants), e.g. for LocalStack or tests. S3 then uses path style.
	Endpoints map[string]string
	// Retryer builds each client's retryer; default: the SDK's standard
	// retryer with 10 attempts (throttling errors are retried).
	Retryer func() aws.Retryer
	// ReportPoll and ReportWait bound the wait for the credential report
	// (defaults 2s and 2m).
	ReportPoll, ReportWait time.Duration
	// PerUser also reads each user's access keys and MFA devices into
	// Snapshot.IAM.UserCredentials (for iamlens's account state; the
	// checks do not need them): two calls a user, plus one per key the
	// credential report does not describe. live.Policy lists the extra
	// permissions.
	PerUser bool
	// Now stamps Snapshot.CollectedAt (default time.Now).
	Now func() time.Time
	// Logf, when set, receives one line per region and per failed call.
	Logf func(format string, args ...any)
}

type collector struct {
	cfg  aws.Config
	opts Options
	mu   sync.Mutex
	snap *cis.Snapshot
}

// Collect reads the account cfg's credentials belong to.
func Collect(ctx context.Context, cfg aws.Config, opts Options) (*cis.Snapshot, error) {
	opts.defaults()
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	c := &collector{cfg: cfg, opts: opts, snap: &cis.Snapshot{Regions: map[string]*cis.Region{}, Buckets: map[string]*cis.Bucket{}}}
	return c.run(ctx)
}

func (opts *Options) defaults() {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.ReportPoll <= 0 {
		opts.ReportPoll = 2 * time.Second
	}
	if opts.ReportWait <= 0 {
		opts.ReportWait = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Retryer == nil {
		opts.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) { o.MaxAttempts = 10 })
		}
	}
}

func (c *collector) run(ctx context.Context) (*cis.Snapshot, error) {
	cfg, opts := c.cfg, c.opts
	id, err := sts.NewFromConfig(cfg, func(o *sts.Options) { c.common(ServiceSTS, &o.BaseEndpoint, &o.Retryer) }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("who am i (sts get-caller-identity): %w", err)
	}
	c.snap.AccountID = aws.ToString(id.Account)
	if p := strings.SplitN(aws.ToString(id.Arn), ":", 3); len(p) == 3 {
		c.snap.Partition = p[1]
	}

	ec2c := ec2.NewFromConfig(cfg, func(o *ec2.Options) { c.common(ServiceEC2, &o.BaseEndpoint, &o.Retryer) })
	dr, err := ec2c.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		return nil, fmt.Errorf("list regions (ec2 describe-regions): %w", err)
	}
	regions := c.filterRegions(dr)
	var out cis.DescribeRegionsOutput
	c.convert(&ec2.DescribeRegionsOutput{Regions: keepRegions(dr.Regions, regions)}, &out)
	c.snap.DescribeRegions = &out

	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { c.collectIAM(gctx); return nil })
	rg := &errgroup.Group{}
	rg.SetLimit(opts.Concurrency)
	for _, r := range regions {
		// Each goroutine returns when its region's calls are done or the
		// context is cancelled (the SDK returns ctx errors at once).
		rg.Go(func() error {
			c.collectRegion(gctx, r)
			return nil
		})
	}
	_ = rg.Wait()
	c.collectBuckets(gctx)
	c.collectAccountBlock(gctx)
	_ = g.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c.snap.CollectedAt = cis.Time{Time: opts.Now().UTC()}
	sort.Slice(c.snap.Errors, func(i, j int) bool {
		a, b := c.snap.Errors[i], c.snap.Errors[j]
		return a.Region+a.Service+a.Operation+a.Resource < b.Region+b.Service+b.Operation+b.Resource
	})
	return c.snap, nil
}

// common sets the endpoint override and retryer of one client.
func (c *collector) common(service string, endpoint **string, retryer *aws.Retryer) {
	if ep := c.opts.Endpoints[service]; ep != "" {
		*endpoint = aws.String(ep)
	}
	*retryer = c.opts.Retryer()
}

func (c *collector) filterRegions(dr *ec2.DescribeRegionsOutput) []string {
	var out []string
	for _, r := range dr.Regions {
		name := aws.ToString(r.RegionName)
		st := aws.ToString(r.OptInStatus)
		if st != "" && st != "opt-in-not-required" && st != "opted-in" {
			continue
		}
		if len(c.opts.Regions) > 0 && !slices.Contains(c.opts.Regions, name) {
			continue
		}
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}

func keepRegions(rs []ec2types.Region, keep []string) []ec2types.Region {
	var out []ec2types.Region
	for _, r := range rs {
		if slices.Contains(keep, aws.ToString(r.RegionName)) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return aws.ToString(out[i].RegionName) < aws.ToString(out[j].RegionName) })
	return out
}

// convert copies an SDK output into the snapshot's CLI-shaped struct
// through JSON: the SDK's Go field names are the API member names, which
// encoding/json matches case-insensitively to the CLI's keys.
func (c *collector) convert(src, dst any) {
	b, err := json.Marshal(src)
	if err == nil {
		err = json.Unmarshal(b, dst)
	}
	if err != nil {
		panic(fmt.Sprintf("collect: convert %T to %T: %v", src, dst, err)) // a programming error, caught by tests
	}
}

// fail records a failed call; it returns true when err is non-nil.
func (c *collector) fail(region, service, op, resource string, err error) bool {
	if err == nil {
		return false
	}
	msg := err.Error()
	var ae smithy.APIError
	if errors.As(err, &ae) {
		msg = ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	c.mu.Lock()
	c.snap.Errors = append(c.snap.Errors, cis.CollectError{Region: region, Service: service, Operation: op, Resource: resource, Message: msg})
	c.mu.Unlock()
	if c.opts.Logf != nil {
		c.opts.Logf("%s %s %s %s: %s", region, service, op, resource, msg)
	}
	return true
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func (c *collector) collectIAM(ctx context.Context) {
	cl := iam.NewFromConfig(c.cfg, func(o *iam.Options) { c.common(ServiceIAM, &o.BaseEndpoint, &o.Retryer) })
	out := &c.snap.IAM
	// The account state's reads go through the iamstate reader.
	rd := live.New(cl, live.Options{PerUser: c.opts.PerUser, ReportPoll: c.opts.ReportPoll, ReportWait: c.opts.ReportWait})

	c.collectAlias(ctx, cl)
	if cr, err := rd.CredentialReport(ctx); !c.fail("", ServiceIAM, live.OpCredentialReport, "", err) {
		out.CredentialReport = cr
	}

	pp, err := cl.GetAccountPasswordPolicy(ctx, &iam.GetAccountPasswordPolicyInput{})
	switch {
	case errorCode(err) == "NoSuchEntity":
		out.PasswordPolicy = &cis.PasswordPolicyOutput{}
	case !c.fail("", ServiceIAM, "GetAccountPasswordPolicy", "", err):
		var v cis.PasswordPolicyOutput
		c.convert(pp, &v)
		out.PasswordPolicy = &v
	}

	if sm, err := cl.GetAccountSummary(ctx, &iam.GetAccountSummaryInput{}); !c.fail("", ServiceIAM, "GetAccountSummary", "", err) {
		var v cis.AccountSummaryOutput
		c.convert(sm, &v)
		out.AccountSummary = &v
	}

	if v, err := rd.VirtualMFADevices(ctx); !c.fail("", ServiceIAM, live.OpVirtualMFADevices, "", err) {
		out.VirtualMFADevices = v
	}

	if v, err := rd.AuthorizationDetails(ctx); !c.fail("", ServiceIAM, live.OpGAAD, "", err) {
		out.AuthorizationDetails = v
		if c.opts.PerUser {
			c.collectUserCredentials(ctx, rd, v, out.CredentialReport)
		}
	}

	part := c.snap.Partition
	if part == "" {
		part = "aws"
	}
	out.EntitiesForPolicy = map[string]*cis.EntitiesForPolicyOutput{}
	for _, name := range []string{"AWSSupportAccess", "AWSCloudShellFullAccess"} {
		arn := "arn:" + part + ":iam::aws:policy/" + name
		ents := &iam.ListEntitiesForPolicyOutput{}
		var perr error
		for p := iam.NewListEntitiesForPolicyPaginator(cl, &iam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				perr = err
				break
			}
			ents.PolicyGroups = append(ents.PolicyGroups, page.PolicyGroups...)
			ents.PolicyUsers = append(ents.PolicyUsers, page.PolicyUsers...)
			ents.PolicyRoles = append(ents.PolicyRoles, page.PolicyRoles...)
		}
		if !c.fail("", ServiceIAM, "ListEntitiesForPolicy", arn, perr) {
			var v cis.EntitiesForPolicyOutput
			c.convert(ents, &v)
			out.EntitiesForPolicy[arn] = &v
		}
	}

	var certs []iamtypes.ServerCertificateMetadata
	var perr error
	for p := iam.NewListServerCertificatesPaginator(cl, &iam.ListServerCertificatesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		certs = append(certs, page.ServerCertificateMetadataList...)
	}
	if !c.fail("", ServiceIAM, "ListServerCertificates", "", perr) {
		var v cis.ServerCertificatesOutput
		c.convert(&iam.ListServerCertificatesOutput{ServerCertificateMetadataList: certs}, &v)
		out.ServerCertificates = &v
	}
}

// collectUserCredentials reads each user's access keys and MFA devices.
func (c *collector) collectUserCredentials(ctx context.Context, rd *live.Reader, d *iamstate.AuthorizationDetails, report *iamstate.CredentialReportOutput) {
	users := make([]string, 0, len(d.UserDetailList))
	for _, u := range d.UserDetailList {
		users = append(users, u.UserName)
	}
	var rep *iamstate.CredentialReport
	if report != nil {
		rep, _ = report.Parse()
	}
	creds, fails := rd.UserCredentials(ctx, users, rep)
	for _, f := range fails {
		c.fail("", ServiceIAM, f.Operation, f.Resource, f.Err)
	}
	c.snap.IAM.UserCredentials = creds
}

func (c *collector) collectRegion(ctx context.Context, region string) {
	rs := &cis.Region{}
	if c.opts.Logf != nil {
		c.opts.Logf("reading %s", region)
	}
	c.collectTrails(ctx, region, rs)
	c.collectKMS(ctx, region, rs)
	c.collectMonitoring(ctx, region, rs)
	c.collectSubscriptions(ctx, region, rs)
	c.collectConfig(ctx, region, rs)
	c.collectEC2(ctx, region, rs)
	c.collectAnalyzers(ctx, region, rs)
	c.collectRDS(ctx, region, rs)
	c.collectEFS(ctx, region, rs)
	c.collectSecurityHub(ctx, region, rs)
	c.mu.Lock()
	c.snap.Regions[region] = rs
	c.mu.Unlock()
}

func (c *collector) collectTrails(ctx context.Context, region string, rs *cis.Region) {
	cl := cloudtrail.NewFromConfig(c.cfg, func(o *cloudtrail.Options) {
		o.Region = region
		c.common(ServiceCloudTrail, &o.BaseEndpoint, &o.Retryer)
	})
	dt, err := cl.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{IncludeShadowTrails: aws.Bool(true)})
	if c.fail(region, ServiceCloudTrail, "DescribeTrails", "", err) {
		return
	}
	var v cis.DescribeTrailsOutput
	c.convert(dt, &v)
	rs.DescribeTrails = &v
	rs.TrailStatus = map[string]*cis.TrailStatus{}
	rs.EventSelectors = map[string]*cis.EventSelectorsOutput{}
	for _, t := range dt.TrailList {
		// Status and selectors are read once, in the trail's home region.
		if aws.ToString(t.HomeRegion) != region {
			continue
		}
		arn := aws.ToString(t.TrailARN)
		if st, err := cl.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String(arn)}); !c.fail(region, ServiceCloudTrail, "GetTrailStatus", arn, err) {
			var v cis.TrailStatus
			c.convert(st, &v)
			rs.TrailStatus[arn] = &v
		}
		if es, err := cl.GetEventSelectors(ctx, &cloudtrail.GetEventSelectorsInput{TrailName: aws.String(arn)}); !c.fail(region, ServiceCloudTrail, "GetEventSelectors", arn, err) {
			var v cis.EventSelectorsOutput
			c.convert(es, &v)
			rs.EventSelectors[arn] = &v
		}
	}
}

func (c *collector) collectKMS(ctx context.Context, region string, rs *cis.Region) {
	cl := kms.NewFromConfig(c.cfg, func(o *kms.Options) {
		o.Region = region
		c.common(ServiceKMS, &o.BaseEndpoint, &o.Retryer)
	})
	var keys []kmstypes.KeyListEntry
	for p := kms.NewListKeysPaginator(cl, &kms.ListKeysInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if c.fail(region, ServiceKMS, "ListKeys", "", err) {
			return
		}
		keys = append(keys, page.Keys...)
	}
	var v cis.ListKeysOutput
	c.convert(&kms.ListKeysOutput{Keys: keys}, &v)
	rs.KMSKeys = &v
	rs.KMSKeyMetadata = map[string]*cis.DescribeKeyOutput{}
	rs.KMSKeyRotation = map[string]*cis.KeyRotationStatusOutput{}
	for _, k := range keys {
		id := aws.ToString(k.KeyId)
		dk, err := cl.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: aws.String(id)})
		if c.fail(region, ServiceKMS, "DescribeKey", id, err) {
			continue
		}
		var md cis.DescribeKeyOutput
		c.convert(dk, &md)
		rs.KMSKeyMetadata[id] = &md
		m := dk.KeyMetadata
		if m == nil || m.KeyManager != kmstypes.KeyManagerTypeCustomer || m.KeyState != kmstypes.KeyStateEnabled || m.KeySpec != kmstypes.KeySpecSymmetricDefault {
			continue // rotation applies to enabled customer-managed symmetric keys only
		}
		rot, err := cl.GetKeyRotationStatus(ctx, &kms.GetKeyRotationStatusInput{KeyId: aws.String(id)})
		if c.fail(region, ServiceKMS, "GetKeyRotationStatus", id, err) {
			continue
		}
		var rv cis.KeyRotationStatusOutput
		c.convert(rot, &rv)
		rs.KMSKeyRotation[id] = &rv
	}
}

func (c *collector) collectMonitoring(ctx context.Context, region string, rs *cis.Region) {
	lc := cloudwatchlogs.NewFromConfig(c.cfg, func(o *cloudwatchlogs.Options) {
		o.Region = region
		c.common(ServiceLogs, &o.BaseEndpoint, &o.Retryer)
	})
	var filters []logstypes.MetricFilter
	var perr error
	for p := cloudwatchlogs.NewDescribeMetricFiltersPaginator(lc, &cloudwatchlogs.DescribeMetricFiltersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		filters = append(filters, page.MetricFilters...)
	}
	if !c.fail(region, ServiceLogs, "DescribeMetricFilters", "", perr) {
		var v cis.DescribeMetricFiltersOutput
		c.convert(&cloudwatchlogs.DescribeMetricFiltersOutput{MetricFilters: filters}, &v)
		rs.MetricFilters = &v
	}

	cc := cloudwatch.NewFromConfig(c.cfg, func(o *cloudwatch.Options) {
		o.Region = region
		c.common(ServiceCloudWatch, &o.BaseEndpoint, &o.Retryer)
	})
	var alarms []cwtypes.MetricAlarm
	perr = nil
	for p := cloudwatch.NewDescribeAlarmsPaginator(cc, &cloudwatch.DescribeAlarmsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		alarms = append(alarms, page.MetricAlarms...)
	}
	if !c.fail(region, ServiceCloudWatch, "DescribeAlarms", "", perr) {
		var v cis.DescribeAlarmsOutput
		c.convert(&cloudwatch.DescribeAlarmsOutput{MetricAlarms: alarms}, &v)
		rs.MetricAlarms = &v
	}
}

func (c *collector) collectConfig(ctx context.Context, region string, rs *cis.Region) {
	cl := configservice.NewFromConfig(c.cfg, func(o *configservice.Options) {
		o.Region = region
		c.common(ServiceConfig, &o.BaseEndpoint, &o.Retryer)
	})
	rec, err := cl.DescribeConfigurationRecorders(ctx, &configservice.DescribeConfigurationRecordersInput{})
	if c.fail(region, ServiceConfig, "DescribeConfigurationRecorders", "", err) {
		return
	}
	st, err := cl.DescribeConfigurationRecorderStatus(ctx, &configservice.DescribeConfigurationRecorderStatusInput{})
	if c.fail(region, ServiceConfig, "DescribeConfigurationRecorderStatus", "", err) {
		return
	}
	var rv cis.ConfigRecordersOutput
	c.convert(rec, &rv)
	var sv cis.ConfigRecorderStatusOutput
	c.convert(st, &sv)
	rs.ConfigRecorders, rs.ConfigRecorderStatus = &rv, &sv
}

func (c *collector) collectEC2(ctx context.Context, region string, rs *cis.Region) {
	cl := ec2.NewFromConfig(c.cfg, func(o *ec2.Options) {
		o.Region = region
		c.common(ServiceEC2, &o.BaseEndpoint, &o.Retryer)
	})
	var vpcs []ec2types.Vpc
	var perr error
	for p := ec2.NewDescribeVpcsPaginator(cl, &ec2.DescribeVpcsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		vpcs = append(vpcs, page.Vpcs...)
	}
	if !c.fail(region, ServiceEC2, "DescribeVpcs", "", perr) {
		var v cis.DescribeVpcsOutput
		c.convert(&ec2.DescribeVpcsOutput{Vpcs: vpcs}, &v)
		rs.Vpcs = &v
	}
	var fls []ec2types.FlowLog
	perr = nil
	for p := ec2.NewDescribeFlowLogsPaginator(cl, &ec2.DescribeFlowLogsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		fls = append(fls, page.FlowLogs...)
	}
	if !c.fail(region, ServiceEC2, "DescribeFlowLogs", "", perr) {
		var v cis.DescribeFlowLogsOutput
		c.convert(&ec2.DescribeFlowLogsOutput{FlowLogs: fls}, &v)
		rs.FlowLogs = &v
	}
	var sgs []ec2types.SecurityGroup
	perr = nil
	for p := ec2.NewDescribeSecurityGroupsPaginator(cl, &ec2.DescribeSecurityGroupsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		sgs = append(sgs, page.SecurityGroups...)
	}
	if !c.fail(region, ServiceEC2, "DescribeSecurityGroups", "", perr) {
		var v cis.DescribeSecurityGroupsOutput
		c.convert(&ec2.DescribeSecurityGroupsOutput{SecurityGroups: sgs}, &v)
		rs.SecurityGroups = &v
	}
	var acls []ec2types.NetworkAcl
	perr = nil
	for p := ec2.NewDescribeNetworkAclsPaginator(cl, &ec2.DescribeNetworkAclsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		acls = append(acls, page.NetworkAcls...)
	}
	if !c.fail(region, ServiceEC2, "DescribeNetworkAcls", "", perr) {
		var v cis.DescribeNetworkAclsOutput
		c.convert(&ec2.DescribeNetworkAclsOutput{NetworkAcls: acls}, &v)
		rs.NetworkAcls = &v
	}
	c.collectInstances(ctx, cl, region, rs)
}

func (c *collector) collectAnalyzers(ctx context.Context, region string, rs *cis.Region) {
	cl := accessanalyzer.NewFromConfig(c.cfg, func(o *accessanalyzer.Options) {
		o.Region = region
		c.common(ServiceAccessAnalyzer, &o.BaseEndpoint, &o.Retryer)
	})
	var as []aatypes.AnalyzerSummary
	for p := accessanalyzer.NewListAnalyzersPaginator(cl, &accessanalyzer.ListAnalyzersInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if c.fail(region, ServiceAccessAnalyzer, "ListAnalyzers", "", err) {
			return
		}
		as = append(as, page.Analyzers...)
	}
	var v cis.ListAnalyzersOutput
	c.convert(&accessanalyzer.ListAnalyzersOutput{Analyzers: as}, &v)
	rs.Analyzers = &v
}

// collectBuckets reads every bucket of the account (ListBuckets) for the
// storage checks, and the buckets the trails write to. A trail bucket in
// another account (organization trails, central log archives) is usually
// denied: the error is recorded and the bucket checks say NOT_ASSESSABLE.
func (c *collector) collectBuckets(ctx context.Context) {
	trail := map[string]bool{}
	for _, rs := range c.snap.Regions {
		if rs.DescribeTrails == nil {
			continue
		}
		for _, t := range rs.DescribeTrails.TrailList {
			if t.S3BucketName != "" {
				trail[t.S3BucketName] = true
			}
		}
	}
	client := func(region string) *s3.Client {
		return s3.NewFromConfig(c.cfg, func(o *s3.Options) {
			o.Region = region
			c.common(ServiceS3, &o.BaseEndpoint, &o.Retryer)
			o.UsePathStyle = c.opts.Endpoints[ServiceS3] != ""
		})
	}
	home := client("us-east-1")
	names, listed := map[string]bool{}, map[string]bool{}
	for _, n := range c.listBuckets(ctx, home) {
		names[n], listed[n] = true, true
	}
	for n := range trail {
		names[n] = true
	}
	sorted := make([]string, 0, len(names))
	for n := range names {
		sorted = append(sorted, n)
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		loc, err := home.GetBucketLocation(ctx, &s3.GetBucketLocationInput{Bucket: aws.String(name)})
		if c.fail("", ServiceS3, "GetBucketLocation", name, err) {
			continue
		}
		region := string(loc.LocationConstraint)
		switch region {
		case "":
			region = "us-east-1"
		case "EU":
			region = "eu-west-1"
		}
		cl := client(region)
		b := &cis.Bucket{Region: region}
		pab, err := cl.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(name)})
		switch {
		case errorCode(err) == "NoSuchPublicAccessBlockConfiguration":
			b.PublicAccessBlock = &cis.PublicAccessBlockOutput{}
		case !c.fail(region, ServiceS3, "GetPublicAccessBlock", name, err):
			var v cis.PublicAccessBlockOutput
			c.convert(pab, &v)
			b.PublicAccessBlock = &v
		}
		if listed[name] {
			pol, err := cl.GetBucketPolicy(ctx, &s3.GetBucketPolicyInput{Bucket: aws.String(name)})
			switch {
			case errorCode(err) == "NoSuchBucketPolicy":
				b.Policy = &cis.BucketPolicyOutput{}
			case !c.fail(region, ServiceS3, "GetBucketPolicy", name, err):
				b.Policy = &cis.BucketPolicyOutput{Policy: aws.ToString(pol.Policy)}
			}
			if ver, err := cl.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(name)}); !c.fail(region, ServiceS3, "GetBucketVersioning", name, err) {
				var v cis.BucketVersioningOutput
				c.convert(ver, &v)
				b.Versioning = &v
			}
		}
		if trail[name] {
			if acl, err := cl.GetBucketAcl(ctx, &s3.GetBucketAclInput{Bucket: aws.String(name)}); !c.fail(region, ServiceS3, "GetBucketAcl", name, err) {
				var v cis.BucketAclOutput
				c.convert(acl, &v)
				b.Acl = &v
			}
			ps, err := cl.GetBucketPolicyStatus(ctx, &s3.GetBucketPolicyStatusInput{Bucket: aws.String(name)})
			switch {
			case errorCode(err) == "NoSuchBucketPolicy":
				b.PolicyStatus = &cis.PolicyStatusOutput{}
			case !c.fail(region, ServiceS3, "GetBucketPolicyStatus", name, err):
				var v cis.PolicyStatusOutput
				c.convert(ps, &v)
				b.PolicyStatus = &v
			}
			if lg, err := cl.GetBucketLogging(ctx, &s3.GetBucketLoggingInput{Bucket: aws.String(name)}); !c.fail(region, ServiceS3, "GetBucketLogging", name, err) {
				var v cis.BucketLoggingOutput
				c.convert(lg, &v)
				b.Logging = &v
			}
		}
		c.snap.Buckets[name] = b
	}
}
