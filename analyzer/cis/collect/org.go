package collect

import (
	"context"
	"fmt"
	"sort"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

// OrgAccount is one account of the organization.
type OrgAccount struct {
	ID     string
	Name   string
	Status string // ACTIVE, SUSPENDED, PENDING_CLOSURE
}

// ListAccounts lists the accounts of the organization cfg's credentials
// can read (organizations:ListAccounts, from the management account or a
// delegated administrator), sorted by ID.
func ListAccounts(ctx context.Context, cfg aws.Config, opts Options) ([]OrgAccount, error) {
	opts.defaults()
	c := &collector{cfg: cfg, opts: opts}
	cl := organizations.NewFromConfig(cfg, func(o *organizations.Options) {
		o.Region = "us-east-1"
		c.common(ServiceOrganizations, &o.BaseEndpoint, &o.Retryer)
	})
	var out []OrgAccount
	for p := organizations.NewListAccountsPaginator(cl, &organizations.ListAccountsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the organization's accounts (organizations list-accounts): %w", err)
		}
		for _, a := range page.Accounts {
			out = append(out, OrgAccount{ID: aws.ToString(a.Id), Name: aws.ToString(a.Name), Status: string(a.Status)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// CallerAccount is the account cfg's credentials belong to.
func CallerAccount(ctx context.Context, cfg aws.Config, opts Options) (string, error) {
	opts.defaults()
	c := &collector{cfg: cfg, opts: opts}
	id, err := sts.NewFromConfig(cfg, func(o *sts.Options) { c.common(ServiceSTS, &o.BaseEndpoint, &o.Retryer) }).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", fmt.Errorf("who am i (sts get-caller-identity): %w", err)
	}
	return aws.ToString(id.Account), nil
}

// AssumeRole returns cfg with credentials of the role roleName in account,
// assumed (and refreshed) through STS. The role must trust the caller;
// the first call that needs the credentials says whether it does.
func AssumeRole(cfg aws.Config, opts Options, partition, account, roleName string) aws.Config {
	opts.defaults()
	c := &collector{cfg: cfg, opts: opts}
	if partition == "" {
		partition = "aws"
	}
	client := sts.NewFromConfig(cfg, func(o *sts.Options) { c.common(ServiceSTS, &o.BaseEndpoint, &o.Retryer) })
	arn := fmt.Sprintf("arn:%s:iam::%s:role/%s", partition, account, roleName)
	out := cfg.Copy()
	out.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(client, arn, func(o *stscreds.AssumeRoleOptions) {
		o.RoleSessionName = "iamlens-cis"
	}))
	return out
}
