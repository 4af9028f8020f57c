package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
)

// s3DialTimeout bounds opening a connection, and s3AnswerTimeout the wait
// for a response's headers once a request is sent: an endpoint that does
// not answer fails in seconds, not after minutes of retries (variables so
// that tests can shorten them).
var (
	s3DialTimeout   = 5 * time.Second
	s3AnswerTimeout = 30 * time.Second
)

// s3Client is an S3 client and the count of its retried requests, for the
// progress line.
type s3Client struct {
	*s3.Client
	retries *atomic.Int64
	// requests counts the requests sent (each attempt), by kind.
	requests *requestCounts
}

// requestCounts are an S3 client's requests by kind, each attempt counted
// (as S3 bills them).
type requestCounts struct{ list, get, put, other atomic.Int64 }

// RequestCounts is what the ingest summary says of them.
type RequestCounts struct {
	List  int64 `json:"list"`
	Get   int64 `json:"get"`
	Put   int64 `json:"put,omitempty"`
	Other int64 `json:"other,omitempty"`
}

func (c *requestCounts) snapshot() RequestCounts {
	return RequestCounts{List: c.list.Load(), Get: c.get.Load(), Put: c.put.Load(), Other: c.other.Load()}
}

// countRequests is a finalize middleware placed after the retryer: it
// sees every attempt.
func countRequests(c *requestCounts) func(*middleware.Stack) error {
	return func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("iamlensCountRequests",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				switch op := middleware.GetOperationName(ctx); {
				case strings.HasPrefix(op, "List"):
					c.list.Add(1)
				case op == "GetObject" || op == "HeadObject":
					c.get.Add(1)
				case op == "PutObject" || op == "CopyObject":
					c.put.Add(1)
				default:
					c.other.Add(1)
				}
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	}
}

// newS3Client loads the SDK's default credential chain (env, shared config
// and --profile, SSO, web identity, IMDS). The SDK's standard retryer backs
// off on SlowDown, 503 and throttling errors; an endpoint that refuses or
// does not answer the connection is not retried. The SDK's own log lines
// (a response without a checksum, an IMDS probe that failed) are silenced:
// what matters reaches the user as an error.
func newS3Client(ctx context.Context, profile, region, endpoint string, maxAttempts int) (*s3Client, error) {
	retries := new(atomic.Int64)
	lo := []func(*config.LoadOptions) error{
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
		config.WithRetryer(func() aws.Retryer {
			std := retry.NewStandard(func(so *retry.StandardOptions) {
				if maxAttempts > 0 {
					so.MaxAttempts = maxAttempts
				}
				so.Retryables = append([]retry.IsErrorRetryable{noRetryUnreachable{}}, so.Retryables...)
			})
			return &countingRetryer{RetryerV2: std, n: retries}
		}),
		// Keep a connection for each of up to 64 GETs in flight (--fetch):
		// the SDK's default keeps 10 a host and would reopen the rest, TLS
		// and all.
		config.WithHTTPClient(awshttp.NewBuildableClient().
			WithDialerOptions(func(d *net.Dialer) { d.Timeout = s3DialTimeout }).
			WithTransportOptions(func(t *http.Transport) {
				t.MaxIdleConnsPerHost = 64
				t.ResponseHeaderTimeout = s3AnswerTimeout
			})),
	}
	if profile != "" {
		lo = append(lo, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		lo = append(lo, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, lo...)
	if err != nil {
		var pe config.SharedConfigProfileNotExistError
		if errors.As(err, &pe) {
			return nil, usageErrorf("List the profiles with 'aws configure list-profiles'.", "no AWS profile %q in the shared config and credentials files", pe.Profile)
		}
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	counts := &requestCounts{}
	return &s3Client{Client: s3.NewFromConfig(cfg, func(so *s3.Options) {
		so.APIOptions = append(so.APIOptions, countRequests(counts))
		so.DisableLogOutputChecksumValidationSkipped = true
		if endpoint != "" {
			so.BaseEndpoint = aws.String(endpoint)
			so.UsePathStyle = true
		}
	}), retries: retries, requests: counts}, nil
}

// countingRetryer counts the retries it allows.
type countingRetryer struct {
	aws.RetryerV2
	n *atomic.Int64
}

func (r *countingRetryer) RetryDelay(attempt int, err error) (time.Duration, error) {
	r.n.Add(1)
	return r.RetryerV2.RetryDelay(attempt, err)
}

// noRetryUnreachable says not to retry a connection that was refused,
// timed out while opening, or named a host that does not exist: the
// endpoint is wrong or down, and retrying only makes the user wait.
type noRetryUnreachable struct{}

func (noRetryUnreachable) IsErrorRetryable(err error) aws.Ternary {
	if unreachable(err) != "" {
		return aws.FalseTernary
	}
	return aws.UnknownTernary
}

// unreachable says why a connection could not be opened or a request got
// no answer ("connection refused", "no answer within 5s", "no such
// host"), or "".
func unreachable(err error) string {
	var dns *net.DNSError
	var op *net.OpError
	var ne net.Error
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return "no such host"
	case errors.As(err, &op) && op.Op == "dial":
		switch {
		case strings.Contains(op.Err.Error(), "connection refused"):
			return "connection refused"
		case op.Timeout():
			return fmt.Sprintf("no answer within %s", s3DialTimeout)
		default:
			return op.Err.Error()
		}
	case errors.As(err, &ne) && ne.Timeout() && strings.Contains(err.Error(), "awaiting response headers"):
		return fmt.Sprintf("no answer within %s", s3AnswerTimeout)
	}
	return ""
}

// hintError is an error with advice on what to do (exit 1).
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// s3Error turns what S3 (or the way to it) answered into a message that
// says what to do. Other errors pass through.
func s3Error(err error, src string, o *ingestOptions) error {
	if !strings.HasPrefix(src, "s3://") {
		return err
	}
	profileHint := "Give --profile NAME (or set AWS_PROFILE) for a profile of ~/.aws/config, run 'aws sso login --profile NAME' first for IAM Identity Center, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY."
	if why := unreachable(err); why != "" {
		endpoint := o.EndpointURL
		var ue *url.Error
		if endpoint == "" && errors.As(err, &ue) {
			if u, perr := url.Parse(ue.URL); perr == nil {
				endpoint = u.Scheme + "://" + u.Host
			}
		}
		hint := "Check --endpoint-url, and that the server is running."
		if o.EndpointURL == "" {
			hint = "Check the network, and --s3-region (the bucket's region)."
		}
		return &hintError{err: fmt.Errorf("cannot reach S3 at %s: %s", endpoint, why), hint: hint}
	}
	msg := err.Error()
	var api smithy.APIError
	switch {
	case strings.Contains(msg, "SSO") && (strings.Contains(msg, "expired") || strings.Contains(msg, "token")):
		return &hintError{err: fmt.Errorf("the AWS SSO session is missing or has expired: %w", err), hint: "Run 'aws sso login --profile NAME', then again with --profile NAME."}
	case strings.Contains(msg, "failed to refresh cached credentials") || strings.Contains(msg, "failed to retrieve credentials") ||
		strings.Contains(msg, "no EC2 IMDS role found") || strings.Contains(msg, "get credentials"):
		return &hintError{err: fmt.Errorf("no AWS credentials found to read %s", src), hint: profileHint}
	case errors.As(err, &api):
		switch api.ErrorCode() {
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken":
			return &hintError{err: fmt.Errorf("S3 refused the credentials (%s): %s", api.ErrorCode(), api.ErrorMessage()), hint: profileHint}
		case "AccessDenied", "Forbidden":
			return &hintError{err: fmt.Errorf("S3 denied access to %s: %s", src, api.ErrorMessage()),
				hint: "iamlens needs s3:ListBucket on the bucket and s3:GetObject on its objects (and kms:Decrypt for an SSE-KMS trail)."}
		case "NoSuchBucket":
			return &hintError{err: fmt.Errorf("no bucket %s", src), hint: "Check the bucket's name; with --endpoint-url, the server's buckets."}
		}
	}
	return err
}
