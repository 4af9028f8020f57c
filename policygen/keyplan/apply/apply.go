// Package apply carries out a key plan (package keyplan): for each key, the
// step that is due. It is the only code of iamlens that changes AWS, so it
// is careful: a dry run unless told otherwise, the key's last use checked
// right before each deactivation or deletion (a key used since the plan was
// made stops its plan), the key's state read first so a second run does
// nothing new, and every call recorded in an append-only audit log with the
// caller's identity.
package apply

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/iamlens/iamlens/policygen/keyplan"
)

// Policy is the minimal IAM policy `keys apply` needs (policy.json):
// sts:GetCallerIdentity needs none.
//
//go:embed policy.json
var Policy []byte

// IAM is the part of the IAM client apply calls; *iam.Client has it.
type IAM interface {
	ListAccessKeys(context.Context, *iam.ListAccessKeysInput, ...func(*iam.Options)) (*iam.ListAccessKeysOutput, error)
	GetAccessKeyLastUsed(context.Context, *iam.GetAccessKeyLastUsedInput, ...func(*iam.Options)) (*iam.GetAccessKeyLastUsedOutput, error)
	UpdateAccessKey(context.Context, *iam.UpdateAccessKeyInput, ...func(*iam.Options)) (*iam.UpdateAccessKeyOutput, error)
	DeleteAccessKey(context.Context, *iam.DeleteAccessKeyInput, ...func(*iam.Options)) (*iam.DeleteAccessKeyOutput, error)
}

// STS is the part of the STS client apply calls; *sts.Client has it.
type STS interface {
	GetCallerIdentity(context.Context, *sts.GetCallerIdentityInput, ...func(*sts.Options)) (*sts.GetCallerIdentityOutput, error)
}

// SuccessCheck tells whether a key made a successful call after a time:
// the dataset's answer for keys whose calls already fail (IAM's last-used
// date counts failed calls too). It is declared here, where it is consumed.
type SuccessCheck interface {
	// SucceededSince returns the first successful call of the key after
	// since (zero: none), and until when the dataset's events reach.
	SucceededSince(ctx context.Context, keyID string, since time.Time) (first, covered time.Time, err error)
}

// Options tune Run.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Stage, when not 0, runs only that stage's steps.
	Stage int
	// Yes makes the calls; without it Run only says what it would call.
	Yes bool
	// Audit receives one JSON line per call made or refused (with Yes).
	// Open it with O_APPEND.
	Audit io.Writer
	// Previous are the audit log's lines so far (ReadAudit): a refusal
	// already recorded (the same key, stage, action and result) is not
	// recorded again, so running twice adds nothing.
	Previous []AuditEntry
	// Out receives one line per key for people (nil: nothing).
	Out io.Writer
	// Success checks keys whose plan stops on a successful call (nil:
	// such steps are refused, as nothing can confirm them).
	Success SuccessCheck
}

// Outcomes of a key.
const (
	Done        = "done"          // the call was made
	WouldCall   = "would-call"    // dry run: the call would be made
	NothingToDo = "nothing-to-do" // the key is already as the step wants
	NotDue      = "not-due"       // no step is due yet
	Stopped     = "stopped"       // the key was used (or reactivated) since the plan
	Gone        = "gone"          // the key no longer exists
	Failed      = "failed"        // a call failed
	Unconfirmed = "unconfirmed"   // its use since the plan cannot be checked
)

// Result is what happened to one key.
type Result struct {
	AccessKeyID string        `json:"access_key_id"`
	User        string        `json:"user"`
	Step        *keyplan.Step `json:"step,omitempty"`
	Outcome     string        `json:"outcome"`
	Detail      string        `json:"detail"`
	// Call is the IAM call made or that would be made.
	Call string `json:"call,omitempty"`
}

// Summary is what Run did.
type Summary struct {
	Caller  Identity `json:"caller"`
	DryRun  bool     `json:"dry_run"`
	Results []Result `json:"results"`
}

// Count counts the results with this outcome.
func (s *Summary) Count(outcome string) int {
	n := 0
	for _, r := range s.Results {
		if r.Outcome == outcome {
			n++
		}
	}
	return n
}

// Identity is who makes the calls (sts:GetCallerIdentity).
type Identity struct {
	Account string `json:"account"`
	ARN     string `json:"arn"`
	UserID  string `json:"user_id"`
}

// AuditEntry is one line of the audit log.
type AuditEntry struct {
	Time        time.Time         `json:"time"`
	Caller      Identity          `json:"caller"`
	PlanCreated time.Time         `json:"plan_created_at"`
	AccessKeyID string            `json:"access_key_id"`
	User        string            `json:"user"`
	Stage       int               `json:"stage"`
	Action      string            `json:"action"`
	Call        string            `json:"call,omitempty"`
	Params      map[string]string `json:"params,omitempty"`
	Result      string            `json:"result"`
	Detail      string            `json:"detail,omitempty"`
}

// Run carries out the due step of each key of the plan. It returns an
// error only when it cannot start (who the caller is) or ctx ends; what
// happened to each key is in the summary.
func Run(ctx context.Context, p *keyplan.Plan, im IAM, st STS, o Options) (*Summary, error) {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Yes && o.Audit == nil {
		return nil, errors.New("apply: an audit log is required to make calls")
	}
	id, err := st.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return nil, fmt.Errorf("who am i (sts get-caller-identity): %w", err)
	}
	r := &runner{p: p, im: im, o: o, sum: &Summary{DryRun: !o.Yes,
		Caller: Identity{Account: aws.ToString(id.Account), ARN: aws.ToString(id.Arn), UserID: aws.ToString(id.UserId)}}}
	if p.Account != "" && r.sum.Caller.Account != p.Account {
		return nil, fmt.Errorf("the plan is for account %s, but the credentials are of account %s", p.Account, r.sum.Caller.Account)
	}
	for i := range p.Schedule {
		if err := ctx.Err(); err != nil {
			return r.sum, err
		}
		res := r.key(ctx, &p.Schedule[i])
		r.sum.Results = append(r.sum.Results, res)
		if o.Out != nil {
			fmt.Fprintln(o.Out, line(res))
		}
		if r.auditErr != nil {
			// Nothing more is done that the log could not record.
			return r.sum, fmt.Errorf("write the audit log: %w", r.auditErr)
		}
	}
	return r.sum, nil
}

func line(r Result) string {
	s := fmt.Sprintf("%s (%s): %s", r.AccessKeyID, r.User, r.Outcome)
	if r.Step != nil {
		s += fmt.Sprintf(" [stage %d %s]", r.Step.Stage, r.Step.Action)
	}
	s += ": " + r.Detail
	if r.Outcome == WouldCall && r.Step != nil {
		s += "\n    " + r.Step.Command
	}
	return s
}

type runner struct {
	p        *keyplan.Plan
	im       IAM
	o        Options
	sum      *Summary
	auditErr error
}

func (r *runner) key(ctx context.Context, ks *keyplan.KeySchedule) Result {
	res := Result{AccessKeyID: ks.AccessKeyID, User: ks.User}
	now := r.o.Now()
	step, ok := ks.Due(now, r.o.Stage)
	if !ok {
		res.Outcome = NotDue
		if r.o.Stage != 0 {
			res.Detail = fmt.Sprintf("stage %d is not due", r.o.Stage)
			for _, s := range ks.Stages {
				if s.Stage == r.o.Stage {
					res.Detail = fmt.Sprintf("stage %d starts %s", r.o.Stage, s.At.UTC().Format(time.RFC3339))
					break
				}
			}
		} else if next, ok := ks.Next(now); ok {
			res.Detail = fmt.Sprintf("the first step, %s, is due %s", next.Title, next.At.UTC().Format(time.RFC3339))
		}
		return res
	}
	res.Step = &step
	// A later step of another stage may be due too (the plan fell behind);
	// the last one due says what the key should be now.
	status, exists, err := r.status(ctx, ks)
	if err != nil {
		return r.fail(res, step, "iam:ListAccessKeys", err)
	}
	want := map[string]string{keyplan.Deactivate: "Inactive", keyplan.Reactivate: "Active", keyplan.Delete: ""}[step.Action]
	switch {
	case !exists && step.Action == keyplan.Delete:
		res.Outcome, res.Detail = NothingToDo, "already deleted"
		return res
	case !exists:
		res.Outcome, res.Detail = Gone, "the key no longer exists (deleted by someone else?): nothing left to do"
		r.audit(res, step, "", nil, Gone, res.Detail)
		return res
	case status == want:
		res.Outcome, res.Detail = NothingToDo, "the key is already "+status
		return res
	}
	if step.Action == keyplan.Delete && status == "Active" {
		res.Outcome = Stopped
		res.Detail = "the key is Active again although stage 3 turned it off: someone needs it; the plan stops"
		r.audit(res, step, "", nil, Stopped, res.Detail)
		return res
	}
	if step.Action != keyplan.Reactivate {
		// Right before turning a key off: was it used since the plan?
		if stop, detail, err := r.usedSincePlan(ctx, ks); err != nil {
			return r.fail(res, step, "iam:GetAccessKeyLastUsed", err)
		} else if stop != "" {
			res.Outcome, res.Detail = stop, detail
			r.audit(res, step, "", nil, stop, detail)
			return res
		}
	}
	call, params := "iam:UpdateAccessKey", map[string]string{"UserName": ks.User, "AccessKeyId": ks.AccessKeyID, "Status": want}
	if step.Action == keyplan.Delete {
		call, params = "iam:DeleteAccessKey", map[string]string{"UserName": ks.User, "AccessKeyId": ks.AccessKeyID}
	}
	res.Call = call
	if !r.o.Yes {
		res.Outcome, res.Detail = WouldCall, fmt.Sprintf("would call %s (the key is %s)", call, status)
		return res
	}
	if step.Action == keyplan.Delete {
		_, err = r.im.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{UserName: aws.String(ks.User), AccessKeyId: aws.String(ks.AccessKeyID)})
	} else {
		_, err = r.im.UpdateAccessKey(ctx, &iam.UpdateAccessKeyInput{UserName: aws.String(ks.User), AccessKeyId: aws.String(ks.AccessKeyID),
			Status: types.StatusType(want)})
	}
	var nse *types.NoSuchEntityException
	switch {
	case errors.As(err, &nse):
		res.Outcome, res.Detail = Gone, "the key was deleted by someone else in between: "+message(err)
		r.audit(res, step, call, params, Gone, message(err))
	case err != nil:
		return r.fail(res, step, call, err)
	default:
		res.Outcome, res.Detail = Done, step.Title
		r.audit(res, step, call, params, "ok", "")
	}
	return res
}

// status reads the key's status; exists is false when the key (or its
// user) is gone.
func (r *runner) status(ctx context.Context, ks *keyplan.KeySchedule) (status string, exists bool, err error) {
	pg := iam.NewListAccessKeysPaginator(r.im, &iam.ListAccessKeysInput{UserName: aws.String(ks.User)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		var nse *types.NoSuchEntityException
		if errors.As(err, &nse) {
			return "", false, nil // the user is gone, and its keys
		}
		if err != nil {
			return "", false, err
		}
		for _, k := range out.AccessKeyMetadata {
			if aws.ToString(k.AccessKeyId) == ks.AccessKeyID {
				return string(k.Status), true, nil
			}
		}
	}
	return "", false, nil
}

// usedSincePlan applies the key's stop rule; it returns the outcome that
// stops the step ("" to go on) and why.
func (r *runner) usedSincePlan(ctx context.Context, ks *keyplan.KeySchedule) (string, string, error) {
	if ks.StopOn == keyplan.StopOnSuccess {
		if r.o.Success == nil {
			return Unconfirmed, "its calls already fail, so IAM's last-used date cannot tell a successful call; give a dataset with logs since the plan (--store) to confirm", nil
		}
		first, covered, err := r.o.Success.SucceededSince(ctx, ks.AccessKeyID, r.p.CreatedAt)
		if err != nil {
			return "", "", fmt.Errorf("check the dataset: %w", err)
		}
		if !first.IsZero() {
			return Stopped, fmt.Sprintf("a call with the key succeeded at %s, after the plan was made: the plan stops", first.UTC().Format(time.RFC3339)), nil
		}
		if covered.IsZero() {
			return Unconfirmed, "the dataset has no events since the plan was made: ingest the recent logs first", nil
		}
		if covered.Before(r.p.CreatedAt) {
			return Unconfirmed, fmt.Sprintf("the dataset's events end %s, before the plan was made: ingest the recent logs first", covered.UTC().Format(time.RFC3339)), nil
		}
		return "", "", nil
	}
	out, err := r.im.GetAccessKeyLastUsed(ctx, &iam.GetAccessKeyLastUsedInput{AccessKeyId: aws.String(ks.AccessKeyID)})
	if err != nil {
		return "", "", err
	}
	var last time.Time
	if out.AccessKeyLastUsed != nil && out.AccessKeyLastUsed.LastUsedDate != nil {
		last = out.AccessKeyLastUsed.LastUsedDate.UTC()
	}
	// IAM keeps the last-used date to the minute or better; a date after
	// the plan's record of it is a use since.
	if !last.IsZero() && last.After(ks.LastUsed.Add(time.Second)) {
		return Stopped, fmt.Sprintf("used %s, after the plan's last use (%s): the plan stops", last.Format(time.RFC3339), lastUsed(ks.LastUsed)), nil
	}
	return "", "", nil
}

func lastUsed(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format(time.RFC3339)
}

func (r *runner) fail(res Result, step keyplan.Step, call string, err error) Result {
	res.Outcome, res.Detail = Failed, call+": "+message(err)
	r.audit(res, step, call, nil, Failed, message(err))
	return res
}

// audit appends one line to the audit log (with Yes only: a dry run
// changes nothing).
func (r *runner) audit(res Result, step keyplan.Step, call string, params map[string]string, result, detail string) {
	if !r.o.Yes || r.o.Audit == nil {
		return
	}
	if call == "" || result != "ok" && result != Failed {
		for _, p := range r.o.Previous {
			if p.AccessKeyID == res.AccessKeyID && p.Stage == step.Stage && p.Action == step.Action && p.Result == result && p.Call == call &&
				p.PlanCreated.Equal(r.p.CreatedAt) {
				return
			}
		}
	}
	e := AuditEntry{Time: r.o.Now().UTC(), Caller: r.sum.Caller, PlanCreated: r.p.CreatedAt, AccessKeyID: res.AccessKeyID,
		User: res.User, Stage: step.Stage, Action: step.Action, Call: call, Params: params, Result: result, Detail: detail}
	b, err := json.Marshal(e)
	if err == nil {
		_, err = r.o.Audit.Write(append(b, '\n'))
	}
	if err != nil && r.auditErr == nil {
		r.auditErr = err
	}
}

// message renders an SDK error as "Code: message" when it is an API error.
func message(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode() + ": " + ae.ErrorMessage()
	}
	return err.Error()
}
