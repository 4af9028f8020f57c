package live

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// AccountOptions tune ReadAccount.
type AccountOptions struct {
	Options
	// IAMEndpoint and STSEndpoint override the services' endpoints (tests,
	// LocalStack).
	IAMEndpoint, STSEndpoint string
	// Retryer builds each client's retryer; default: the SDK's standard
	// retryer with 10 attempts (throttling is retried).
	Retryer func() aws.Retryer
	// Now stamps Account.CollectedAt (default time.Now).
	Now func() time.Time
}

// ErrNothingRead means every IAM read failed.
var ErrNothingRead = errors.New("no IAM output could be read")

// ReadAccount reads the account cfg's credentials belong to: who it is
// (sts:GetCallerIdentity, which needs no permission), then Reader.Read,
// then iamstate.Build. Reads that fail become the Account's Problems; it
// fails when none succeeds.
func ReadAccount(ctx context.Context, cfg aws.Config, o AccountOptions) (*iamstate.Account, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Retryer == nil {
		o.Retryer = func() aws.Retryer {
			return retry.NewStandard(func(so *retry.StandardOptions) { so.MaxAttempts = 10 })
		}
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	id, err := sts.NewFromConfig(cfg, func(so *sts.Options) {
		if o.STSEndpoint != "" {
			so.BaseEndpoint = aws.String(o.STSEndpoint)
		}
		so.Retryer = o.Retryer()
	}).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("who am i (sts get-caller-identity): %w", err)
	}
	in := &iamstate.Input{AccountID: aws.ToString(id.Account)}
	if p, err := arn.Parse(aws.ToString(id.Arn)); err == nil {
		in.Partition = p.Partition
	}
	cl := iam.NewFromConfig(cfg, func(io *iam.Options) {
		if o.IAMEndpoint != "" {
			io.BaseEndpoint = aws.String(o.IAMEndpoint)
		}
		io.Retryer = o.Retryer()
	})
	out, fails, err := New(cl, o.Options).Read(ctx)
	if err != nil {
		return nil, err
	}
	in.CollectedAt = o.Now().UTC()
	in.Outputs = *out
	for _, f := range fails {
		in.Failed = append(in.Failed, iamstate.Problem{Source: f.Operation, Subject: f.Resource, Message: "could not be read: " + f.Message()})
	}
	if out.AuthorizationDetails == nil && out.CredentialReport == nil {
		return nil, fmt.Errorf("%w: %v", ErrNothingRead, errors.Join(failErrors(fails)...))
	}
	return iamstate.Build(in), nil
}

func failErrors(fs []Failure) []error {
	out := make([]error, len(fs))
	for i, f := range fs {
		out[i] = f
	}
	return out
}
