package collect

import (
	"context"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/efs"
	efstypes "github.com/aws/aws-sdk-go-v2/service/efs/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	rdstypes "github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3control"
	"github.com/aws/aws-sdk-go-v2/service/securityhub"
	"github.com/aws/aws-sdk-go-v2/service/sns"
	snstypes "github.com/aws/aws-sdk-go-v2/service/sns/types"
	smithyendpoints "github.com/aws/smithy-go/endpoints"

	"github.com/iamlens/iamlens/analyzer/cis"
)

// collectInstances reads the region's instances (instance profiles,
// metadata options) and its EBS default encryption.
func (c *collector) collectInstances(ctx context.Context, cl *ec2.Client, region string, rs *cis.Region) {
	var res []ec2types.Reservation
	var perr error
	for p := ec2.NewDescribeInstancesPaginator(cl, &ec2.DescribeInstancesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		res = append(res, page.Reservations...)
	}
	if !c.fail(region, ServiceEC2, "DescribeInstances", "", perr) {
		var v cis.DescribeInstancesOutput
		c.convert(&ec2.DescribeInstancesOutput{Reservations: res}, &v)
		rs.Instances = &v
	}
	if eb, err := cl.GetEbsEncryptionByDefault(ctx, &ec2.GetEbsEncryptionByDefaultInput{}); !c.fail(region, ServiceEC2, "GetEbsEncryptionByDefault", "", err) {
		var v cis.EbsEncryptionByDefaultOutput
		c.convert(eb, &v)
		rs.EbsEncryptionByDefault = &v
	}
}

func (c *collector) collectRDS(ctx context.Context, region string, rs *cis.Region) {
	cl := rds.NewFromConfig(c.cfg, func(o *rds.Options) {
		o.Region = region
		c.common(ServiceRDS, &o.BaseEndpoint, &o.Retryer)
	})
	var dbs []rdstypes.DBInstance
	for p := rds.NewDescribeDBInstancesPaginator(cl, &rds.DescribeDBInstancesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if c.fail(region, ServiceRDS, "DescribeDBInstances", "", err) {
			return
		}
		dbs = append(dbs, page.DBInstances...)
	}
	var v cis.DescribeDBInstancesOutput
	c.convert(&rds.DescribeDBInstancesOutput{DBInstances: dbs}, &v)
	rs.DBInstances = &v
}

func (c *collector) collectEFS(ctx context.Context, region string, rs *cis.Region) {
	cl := efs.NewFromConfig(c.cfg, func(o *efs.Options) {
		o.Region = region
		c.common(ServiceEFS, &o.BaseEndpoint, &o.Retryer)
	})
	var fss []efstypes.FileSystemDescription
	for p := efs.NewDescribeFileSystemsPaginator(cl, &efs.DescribeFileSystemsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if c.fail(region, ServiceEFS, "DescribeFileSystems", "", err) {
			return
		}
		fss = append(fss, page.FileSystems...)
	}
	var v cis.DescribeFileSystemsOutput
	c.convert(&efs.DescribeFileSystemsOutput{FileSystems: fss}, &v)
	rs.FileSystems = &v
}

// collectSecurityHub reads whether Security Hub is enabled: DescribeHub
// answers InvalidAccessException (or ResourceNotFoundException) when the
// account is not subscribed in the region, which is read as {}.
func (c *collector) collectSecurityHub(ctx context.Context, region string, rs *cis.Region) {
	cl := securityhub.NewFromConfig(c.cfg, func(o *securityhub.Options) {
		o.Region = region
		c.common(ServiceSecurityHub, &o.BaseEndpoint, &o.Retryer)
	})
	out, err := cl.DescribeHub(ctx, &securityhub.DescribeHubInput{})
	switch code := errorCode(err); {
	case code == "InvalidAccessException" || code == "ResourceNotFoundException":
		rs.SecurityHub = &cis.DescribeHubOutput{}
	case !c.fail(region, ServiceSecurityHub, "DescribeHub", "", err):
		var v cis.DescribeHubOutput
		c.convert(out, &v)
		rs.SecurityHub = &v
	}
}

// alarmTopics lists the SNS topics the region's alarms notify.
func alarmTopics(rs *cis.Region) []string {
	if rs.MetricAlarms == nil {
		return nil
	}
	var out []string
	for _, a := range rs.MetricAlarms.MetricAlarms {
		for _, act := range a.AlarmActions {
			if strings.HasPrefix(act, "arn:") && strings.Contains(act, ":sns:") && !slices.Contains(out, act) {
				out = append(out, act)
			}
		}
	}
	sort.Strings(out)
	return out
}

// collectSubscriptions reads the subscriptions of each SNS topic an alarm
// of the region notifies (an alarm counts only with a confirmed one).
func (c *collector) collectSubscriptions(ctx context.Context, region string, rs *cis.Region) {
	topics := alarmTopics(rs)
	if len(topics) == 0 {
		return
	}
	cl := sns.NewFromConfig(c.cfg, func(o *sns.Options) {
		o.Region = region
		c.common(ServiceSNS, &o.BaseEndpoint, &o.Retryer)
	})
	rs.SNSSubscriptions = map[string]*cis.ListSubscriptionsByTopicOutput{}
	for _, topic := range topics {
		var subs []snstypes.Subscription
		var perr error
		for p := sns.NewListSubscriptionsByTopicPaginator(cl, &sns.ListSubscriptionsByTopicInput{TopicArn: aws.String(topic)}); p.HasMorePages(); {
			page, err := p.NextPage(ctx)
			if err != nil {
				perr = err
				break
			}
			subs = append(subs, page.Subscriptions...)
		}
		if !c.fail(region, ServiceSNS, "ListSubscriptionsByTopic", topic, perr) {
			var v cis.ListSubscriptionsByTopicOutput
			c.convert(&sns.ListSubscriptionsByTopicOutput{Subscriptions: subs}, &v)
			rs.SNSSubscriptions[topic] = &v
		}
	}
}

// staticResolver sends every s3control call to one endpoint, with no
// account-ID host prefix (the endpoint override of tests and LocalStack).
type staticResolver struct{ u url.URL }

func (r staticResolver) ResolveEndpoint(context.Context, s3control.EndpointParameters) (smithyendpoints.Endpoint, error) {
	return smithyendpoints.Endpoint{URI: r.u}, nil
}

// collectAccountBlock reads the account's S3 block public access
// settings; NoSuchPublicAccessBlockConfiguration is read as {}.
func (c *collector) collectAccountBlock(ctx context.Context) {
	cl := s3control.NewFromConfig(c.cfg, func(o *s3control.Options) {
		o.Region = "us-east-1"
		var ep *string
		c.common(ServiceS3Control, &ep, &o.Retryer)
		if ep != nil {
			if u, err := url.Parse(*ep); err == nil {
				o.EndpointResolverV2 = staticResolver{*u}
			}
		}
	})
	out, err := cl.GetPublicAccessBlock(ctx, &s3control.GetPublicAccessBlockInput{AccountId: aws.String(c.snap.AccountID)})
	switch {
	case errorCode(err) == "NoSuchPublicAccessBlockConfiguration":
		c.snap.S3AccountPublicAccessBlock = &cis.PublicAccessBlockOutput{}
	case !c.fail("", ServiceS3Control, "GetPublicAccessBlock", "", err):
		var v cis.PublicAccessBlockOutput
		c.convert(out, &v)
		c.snap.S3AccountPublicAccessBlock = &v
	}
}

// collectAlias names the account by its IAM alias (Organizations names it
// in an organization-wide run).
func (c *collector) collectAlias(ctx context.Context, cl *iam.Client) {
	out, err := cl.ListAccountAliases(ctx, &iam.ListAccountAliasesInput{})
	if c.fail("", ServiceIAM, "ListAccountAliases", "", err) || len(out.AccountAliases) == 0 {
		return
	}
	c.mu.Lock()
	if c.snap.AccountName == "" {
		c.snap.AccountName = out.AccountAliases[0]
	}
	c.mu.Unlock()
}

// listBuckets reads the account's buckets.
func (c *collector) listBuckets(ctx context.Context, cl *s3.Client) []string {
	var names []string
	lb := &s3.ListBucketsOutput{}
	var perr error
	for p := s3.NewListBucketsPaginator(cl, &s3.ListBucketsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			perr = err
			break
		}
		lb.Buckets = append(lb.Buckets, page.Buckets...)
		if lb.Owner == nil {
			lb.Owner = page.Owner
		}
	}
	if c.fail("", ServiceS3, "ListBuckets", "", perr) {
		return nil
	}
	var v cis.ListBucketsOutput
	c.convert(lb, &v)
	c.snap.ListBuckets = &v
	for _, b := range v.Buckets {
		names = append(names, b.Name)
	}
	return names
}
