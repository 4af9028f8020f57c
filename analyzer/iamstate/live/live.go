// Package live reads an account's IAM state from the IAM API, read-only,
// into iamstate's outputs: GetAccountAuthorizationDetails (every page),
// the credential report (GenerateCredentialReport, then
// GetCredentialReport once it is ready), ListVirtualMFADevices and, when
// asked, each user's access keys and MFA devices (ListAccessKeys,
// ListMFADevices, and GetAccessKeyLastUsed for the keys the credential
// report does not describe).
//
// Every call is a read, with one exception: iam:GenerateCredentialReport
// asks IAM to build the credential report if none is fresh (at most every
// four hours); it changes nothing in the account. The minimal policy is
// policy.json beside this file (embedded as Policy). Throttling is retried
// by the client's retryer.
package live

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	iamtypes "github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// Policy is the minimal IAM policy of a full read (policy.json):
// sts:GetCallerIdentity needs none.
//
//go:embed policy.json
var Policy []byte

// API is the part of the IAM client the Reader calls; *iam.Client has it.
type API interface {
	GetAccountAuthorizationDetails(context.Context, *iam.GetAccountAuthorizationDetailsInput, ...func(*iam.Options)) (*iam.GetAccountAuthorizationDetailsOutput, error)
	GenerateCredentialReport(context.Context, *iam.GenerateCredentialReportInput, ...func(*iam.Options)) (*iam.GenerateCredentialReportOutput, error)
	GetCredentialReport(context.Context, *iam.GetCredentialReportInput, ...func(*iam.Options)) (*iam.GetCredentialReportOutput, error)
	ListVirtualMFADevices(context.Context, *iam.ListVirtualMFADevicesInput, ...func(*iam.Options)) (*iam.ListVirtualMFADevicesOutput, error)
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	ListMFADevices(context.Context, *iam.ListMFADevicesInput, ...func(*iam.Options)) (*iam.ListMFADevicesOutput, error)
}

// Options tune a Reader. The zero value reads everything but the per-user
// credentials, and waits up to two minutes for the credential report.
type Options struct {
	// PerUser also reads each user's access keys and MFA devices: two
	// calls a user, plus one per key the credential report does not
	// describe.
	PerUser bool
	// Concurrency is how many users are read at once (default 4).
	Concurrency int
	// ReportPoll and ReportWait bound the wait for the credential report
	// (defaults 2s and 2m).
	ReportPoll, ReportWait time.Duration
	// Logf, when set, receives one line per failed read.
	Logf func(format string, args ...any)
}

// Reader reads one account's IAM state through API.
type Reader struct {
	api  API
	opts Options
}

// New returns a Reader.
func New(api API, opts Options) *Reader {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 4
	}
	if opts.ReportPoll <= 0 {
		opts.ReportPoll = 2 * time.Second
	}
	if opts.ReportWait <= 0 {
		opts.ReportWait = 2 * time.Minute
	}
	return &Reader{api: api, opts: opts}
}

// Operation names, as Failure.Operation and iamstate problems give them.
const (
	OpGAAD              = "GetAccountAuthorizationDetails"
	OpCredentialReport  = "GetCredentialReport"
	OpVirtualMFADevices = "ListVirtualMFADevices"
	OpListAccessKeys    = "ListAccessKeys"
	OpListMFADevices    = "ListMFADevices"
	OpAccessKeyLastUsed = "GetAccessKeyLastUsed"
)

// Failure is one read that failed.
type Failure struct {
	Operation string
	Resource  string // the user, for the per-user reads
	Err       error
}

func (f Failure) Error() string {
	if f.Resource != "" {
		return fmt.Sprintf("iam %s %s: %v", f.Operation, f.Resource, f.Err)
	}
	return fmt.Sprintf("iam %s: %v", f.Operation, f.Err)
}

func (f Failure) Unwrap() error { return f.Err }

// Message is the error as AWS gave it: "Code: message" for an API error.
func (f Failure) Message() string { return Message(f.Err) }

// Message renders an error of the SDK as "Code: message" when it is an
// API error.
func Message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}

// Read reads every output. A read that fails leaves its member nil and is
// returned in the failures; the others are still read. It returns an error
// only when ctx ends.
func (r *Reader) Read(ctx context.Context) (*iamstate.Outputs, []Failure, error) {
	out := &iamstate.Outputs{}
	var fails []Failure
	fail := func(op string, err error) bool {
		if err == nil {
			return false
		}
		f := Failure{Operation: op, Err: err}
		fails = append(fails, f)
		r.logf("%s", f.Error())
		return true
	}
	if v, err := r.CredentialReport(ctx); !fail(OpCredentialReport, err) {
		out.CredentialReport = v
	}
	if v, err := r.VirtualMFADevices(ctx); !fail(OpVirtualMFADevices, err) {
		out.VirtualMFADevices = v
	}
	if v, err := r.AuthorizationDetails(ctx); !fail(OpGAAD, err) {
		out.AuthorizationDetails = v
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if r.opts.PerUser && out.AuthorizationDetails != nil {
		var users []string
		for _, u := range out.AuthorizationDetails.UserDetailList {
			users = append(users, u.UserName)
		}
		var rep *iamstate.CredentialReport
		if out.CredentialReport != nil {
			rep, _ = out.CredentialReport.Parse()
		}
		creds, ufails := r.UserCredentials(ctx, users, rep)
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		out.UserCredentials = creds
		fails = append(fails, ufails...)
	}
	return out, fails, nil
}

func (r *Reader) logf(format string, args ...any) {
	if r.opts.Logf != nil {
		r.opts.Logf(format, args...)
	}
}

// AuthorizationDetails reads every page of GetAccountAuthorizationDetails.
func (r *Reader) AuthorizationDetails(ctx context.Context) (*iamstate.AuthorizationDetails, error) {
	all := &iam.GetAccountAuthorizationDetailsOutput{}
	for p := iam.NewGetAccountAuthorizationDetailsPaginator(r.api, &iam.GetAccountAuthorizationDetailsInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		all.UserDetailList = append(all.UserDetailList, page.UserDetailList...)
		all.GroupDetailList = append(all.GroupDetailList, page.GroupDetailList...)
		all.RoleDetailList = append(all.RoleDetailList, page.RoleDetailList...)
		all.Policies = append(all.Policies, page.Policies...)
	}
	var v iamstate.AuthorizationDetails
	if err := convert(all, &v); err != nil {
		return nil, err
	}
	return &v, nil
}

// convert copies an SDK output into its CLI-shaped iamstate type through
// JSON: the SDK's Go field names are the API member names, which are the
// CLI's keys; URL-encoded documents decode into PolicyText.
func convert(src, dst any) error {
	b, err := json.Marshal(src)
	if err == nil {
		err = json.Unmarshal(b, dst)
	}
	if err != nil {
		return fmt.Errorf("convert %T: %w", src, err)
	}
	return nil
}

// errorCode is the API error code of err, or "".
func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// CredentialReport asks IAM for a fresh report (GenerateCredentialReport
// answers STARTED, INPROGRESS, or COMPLETE once one at most four hours old
// exists) and downloads it. While IAM builds it, GetCredentialReport answers
// ReportInProgress; either way the reader waits ReportPoll and asks again,
// up to ReportWait.
func (r *Reader) CredentialReport(ctx context.Context) (*iamstate.CredentialReportOutput, error) {
	deadline := time.Now().Add(r.opts.ReportWait)
	for {
		g, err := r.api.GenerateCredentialReport(ctx, &iam.GenerateCredentialReportInput{})
		if err != nil {
			return nil, fmt.Errorf("generate: %w", err)
		}
		state := string(g.State)
		if g.State == iamtypes.ReportStateTypeComplete {
			out, err := r.api.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
			switch code := errorCode(err); {
			case err == nil:
				v := &iamstate.CredentialReportOutput{Content: out.Content, ReportFormat: string(out.ReportFormat)}
				if out.GeneratedTime != nil {
					v.GeneratedTime = iamstate.Time{Time: out.GeneratedTime.UTC()}
				}
				return v, nil
			case code == "ReportInProgress" || code == "ReportNotPresent" || code == "ReportExpired":
				state = code
			default:
				return nil, err
			}
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("credential report still %s after %s", state, r.opts.ReportWait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(r.opts.ReportPoll):
		}
	}
}

// VirtualMFADevices reads every page of ListVirtualMFADevices.
func (r *Reader) VirtualMFADevices(ctx context.Context) (*iamstate.VirtualMFADevicesOutput, error) {
	out := &iamstate.VirtualMFADevicesOutput{VirtualMFADevices: []iamstate.VirtualMFADevice{}}
	for p := iam.NewListVirtualMFADevicesPaginator(r.api, &iam.ListVirtualMFADevicesInput{}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, err
		}
		for _, d := range page.VirtualMFADevices {
			v := iamstate.VirtualMFADevice{SerialNumber: aws.ToString(d.SerialNumber), EnableDate: stamp(d.EnableDate)}
			if d.User != nil {
				v.User = &iamstate.MFAUser{Arn: aws.ToString(d.User.Arn), UserName: aws.ToString(d.User.UserName)}
			}
			out.VirtualMFADevices = append(out.VirtualMFADevices, v)
		}
	}
	return out, nil
}

func stamp(t *time.Time) iamstate.Time {
	if t == nil {
		return iamstate.Time{}
	}
	return iamstate.Time{Time: t.UTC()}
}

// UserCredentials reads each user's access keys and MFA devices,
// Concurrency users at a time. A key the credential report rep (nil when
// not read) describes — same user, same creation time — takes its last use
// from the report; the others are asked with GetAccessKeyLastUsed. Users
// whose reads fail are left out and listed in the failures.
func (r *Reader) UserCredentials(ctx context.Context, users []string, rep *iamstate.CredentialReport) (map[string]*iamstate.UserCredentials, []Failure) {
	covered := map[string][]time.Time{} // user → key creation times the report describes
	if rep != nil {
		for _, row := range rep.Rows {
			for _, k := range row.AccessKeys {
				if k.LastRotated.Known() {
					covered[row.User] = append(covered[row.User], k.LastRotated.Time.Truncate(time.Second))
				}
			}
		}
	}
	var mu sync.Mutex
	out := map[string]*iamstate.UserCredentials{}
	var fails []Failure
	g := &errgroup.Group{}
	g.SetLimit(r.opts.Concurrency)
	for _, name := range users {
		g.Go(func() error {
			uc, f := r.userCredentials(ctx, name, covered[name])
			mu.Lock()
			defer mu.Unlock()
			if f != nil {
				fails = append(fails, *f)
				r.logf("%s", f.Error())
				return nil
			}
			out[name] = uc
			return nil
		})
	}
	_ = g.Wait()
	return out, fails
}

func (r *Reader) userCredentials(ctx context.Context, name string, covered []time.Time) (*iamstate.UserCredentials, *Failure) {
	uc := &iamstate.UserCredentials{AccessKeyMetadata: []iamstate.AccessKeyMetadata{}, MFADevices: []iamstate.MFADevice{}}
	for p := iam.NewListAccessKeysPaginator(r.api, &iam.ListAccessKeysInput{UserName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, &Failure{Operation: OpListAccessKeys, Resource: name, Err: err}
		}
		for _, k := range page.AccessKeyMetadata {
			uc.AccessKeyMetadata = append(uc.AccessKeyMetadata, iamstate.AccessKeyMetadata{UserName: aws.ToString(k.UserName),
				AccessKeyId: aws.ToString(k.AccessKeyId), Status: string(k.Status), CreateDate: stamp(k.CreateDate)})
		}
	}
	for i := range uc.AccessKeyMetadata {
		k := &uc.AccessKeyMetadata[i]
		if isCovered(covered, k.CreateDate.Time) {
			continue
		}
		lu, err := r.api.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(k.AccessKeyId)})
		if err != nil {
			return nil, &Failure{Operation: OpAccessKeyLastUsed, Resource: name, Err: err}
		}
		if l := lu.AccessKeyLastUsed; l != nil {
			k.AccessKeyLastUsed = &iamstate.AccessKeyLastUsed{LastUsedDate: stamp(l.LastUsedDate), ServiceName: aws.ToString(l.ServiceName), Region: aws.ToString(l.Region)}
		}
	}
	for p := iam.NewListMFADevicesPaginator(r.api, &iam.ListMFADevicesInput{UserName: aws.String(name)}); p.HasMorePages(); {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, &Failure{Operation: OpListMFADevices, Resource: name, Err: err}
		}
		for _, d := range page.MFADevices {
			uc.MFADevices = append(uc.MFADevices, iamstate.MFADevice{UserName: aws.ToString(d.UserName), SerialNumber: aws.ToString(d.SerialNumber), EnableDate: stamp(d.EnableDate)})
		}
	}
	return uc, nil
}

func isCovered(covered []time.Time, created time.Time) bool {
	for _, c := range covered {
		if c.Equal(created.Truncate(time.Second)) {
			return true
		}
	}
	return false
}
