package cis

import (
	"fmt"
	"strings"
	"time"

	"github.com/iamlens/iamlens/analyzer/iampolicy"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

func manualCheck(id, title string, level int, sev Severity, guidance string) Check {
	return Check{ID: id, Title: title, Section: "IAM", Level: level, Severity: sev, Manual: true, Guidance: guidance}
}

func iamChecks() []Check {
	return []Check{
		manualCheck("iam-contact-details", "Maintain current contact details", 1, Low,
			"No API reads the account's contact details: check them on the console's Account page (or `aws account get-contact-information`, which needs account:GetContactInformation)."),
		manualCheck("iam-security-contact", "Ensure security contact information is registered", 1, Low,
			"Check the Security alternate contact: `aws account get-alternate-contact --alternate-contact-type SECURITY`."),
		manualCheck("iam-security-questions", "Ensure security questions are registered in the AWS account", 1, Low,
			"Sign in as root and check 'Configure Security Challenge Questions' on the Account page; no API exposes them."),
		{ID: "iam-root-no-access-keys", Title: "Ensure no 'root' user account access key exists", Section: "IAM", Level: 1, Severity: Critical,
			eval: evalRootKeys},
		{ID: "iam-root-mfa", Title: "Ensure MFA is enabled for the 'root' user account", Section: "IAM", Level: 1, Severity: Critical,
			eval: evalRootMFA},
		{ID: "iam-root-hardware-mfa", Title: "Ensure hardware MFA is enabled for the 'root' user account", Section: "IAM", Level: 2, Severity: High,
			eval: evalRootHardwareMFA},
		{ID: "iam-root-usage", Title: "Eliminate use of the 'root' user for administrative and daily tasks", Section: "IAM", Level: 1, Severity: High,
			eval:     evalRootUsage,
			Guidance: "Fails when the credential report shows the root password or a root access key used in the last 90 days."},
		{ID: "iam-password-min-length", Title: "Ensure IAM password policy requires minimum length of 14 or greater", Section: "IAM", Level: 1, Severity: Medium,
			eval: passwordRule(func(p *PasswordPolicy) (bool, string) {
				return p.MinimumPasswordLength >= 14, fmt.Sprintf("MinimumPasswordLength is %d", p.MinimumPasswordLength)
			})},
		{ID: "iam-password-reuse", Title: "Ensure IAM password policy prevents password reuse", Section: "IAM", Level: 1, Severity: Medium,
			eval: passwordRule(func(p *PasswordPolicy) (bool, string) {
				return p.PasswordReusePrevention >= 24, fmt.Sprintf("PasswordReusePrevention is %d (24 required)", p.PasswordReusePrevention)
			})},
		{ID: "iam-password-uppercase", Title: "Ensure IAM password policy requires at least one uppercase letter", Section: "IAM", Level: 1, Severity: Medium,
			eval: passwordRule(func(p *PasswordPolicy) (bool, string) {
				return p.RequireUppercaseCharacters, fmt.Sprintf("RequireUppercaseCharacters is %v", p.RequireUppercaseCharacters)
			})},
		{ID: "iam-password-lowercase", Title: "Ensure IAM password policy requires at least one lowercase letter", Section: "IAM", Level: 1, Severity: Medium,
			eval: passwordRule(func(p *PasswordPolicy) (bool, string) {
				return p.RequireLowercaseCharacters, fmt.Sprintf("RequireLowercaseCharacters is %v", p.RequireLowercaseCharacters)
			})},
		{ID: "iam-password-symbol", Title: "Ensure IAM password policy requires at least one symbol", Section: "IAM", Level: 1, Severity: Medium,
			eval: passwordRule(func(p *PasswordPolicy) (bool, string) {
				return p.RequireSymbols, fmt.Sprintf("RequireSymbols is %v", p.RequireSymbols)
			})},
		{ID: "iam-password-number", Title: "Ensure IAM password policy requires at least one number", Section: "IAM", Level: 1, Severity: Medium,
			eval: passwordRule(func(p *PasswordPolicy) (bool, string) {
				return p.RequireNumbers, fmt.Sprintf("RequireNumbers is %v", p.RequireNumbers)
			})},
		{ID: "iam-password-expiry", Title: "Ensure IAM password policy expires passwords within 90 days or less", Section: "IAM", Level: 1, Severity: Medium,
			eval: passwordRule(func(p *PasswordPolicy) (bool, string) {
				return p.ExpirePasswords && p.MaxPasswordAge > 0 && p.MaxPasswordAge <= 90, fmt.Sprintf("ExpirePasswords is %v, MaxPasswordAge is %d", p.ExpirePasswords, p.MaxPasswordAge)
			})},
		{ID: "iam-user-console-mfa", Title: "Ensure MFA is enabled for all IAM users that have a console password", Section: "IAM", Level: 1, Severity: High,
			eval: evalUserMFA},
		{ID: "iam-no-keys-at-setup", Title: "Do not setup access keys during initial user setup for all IAM users that have a console password", Section: "IAM", Level: 1, Severity: Low,
			eval:     evalKeysAtSetup,
			Guidance: "Fails for a console user with an active access key that has never been used (the sign of a key created with the user)."},
		{ID: "iam-unused-credentials", Title: "Ensure credentials unused for 45 days or greater are disabled (90 days in v1.2.0)", Section: "IAM", Level: 1, Severity: Medium,
			eval: evalUnusedCredentials},
		{ID: "iam-one-active-key", Title: "Ensure there is only one active access key available for any single IAM user", Section: "IAM", Level: 1, Severity: Low,
			eval: evalOneActiveKey},
		{ID: "iam-key-rotation", Title: "Ensure access keys are rotated every 90 days or less", Section: "IAM", Level: 1, Severity: Medium,
			eval: evalKeyRotation},
		{ID: "iam-user-no-direct-policies", Title: "Ensure IAM users receive permissions only through groups", Section: "IAM", Level: 1, Severity: Low,
			eval: evalUserPolicies},
		{ID: "iam-no-admin-policies", Title: "Ensure IAM policies that allow full \"*:*\" administrative privileges are not attached", Section: "IAM", Level: 1, Severity: High,
			eval: evalAdminPolicies},
		{ID: "iam-support-role", Title: "Ensure a support role has been created to manage incidents with AWS Support", Section: "IAM", Level: 1, Severity: Low,
			eval: evalSupportRole},
		{ID: "iam-instance-roles", Title: "Ensure IAM instance roles are used for AWS resource access from instances", Section: "IAM", Level: 2, Severity: Medium, eval: evalInstanceRoles,
			Guidance: "Fails for each running or stopped instance without an instance profile (terminated ones are ignored); check that code on it does not use stored access keys."},
		{ID: "iam-expired-server-certificates", Title: "Ensure that all the expired SSL/TLS certificates stored in AWS IAM are removed", Section: "IAM", Level: 1, Severity: Medium,
			eval: evalExpiredCerts},
		{ID: "iam-access-analyzer", Title: "Ensure that IAM Access Analyzer is enabled for all regions", Section: "IAM", Level: 1, Severity: Low,
			eval: evalAccessAnalyzer},
		manualCheck("iam-central-identity", "Ensure IAM users are managed centrally via identity federation or AWS Organizations for multi-account environments", 2, Low,
			"Check that people sign in through IAM Identity Center or another identity provider (`aws iam list-saml-providers`, `aws sso-admin list-instances`) rather than as IAM users."),
		{ID: "iam-cloudshell-restricted", Title: "Ensure access to AWSCloudShellFullAccess is restricted", Section: "IAM", Level: 1, Severity: Medium,
			eval: evalCloudShell},
	}
}

// credentialRows runs fn over the credential report, or returns one
// NOT_ASSESSABLE finding when the report is missing.
func (e *env) withCredentials(fn func(rows []iamstate.CredentialReportRow) []Finding) []Finding {
	if e.credErr != "" {
		return []Finding{notAssessable("", e.rootARN(), e.credErr)}
	}
	return fn(e.credRows)
}

func (e *env) rootRow() *iamstate.CredentialReportRow {
	for i := range e.credRows {
		if e.credRows[i].IsRoot() {
			return &e.credRows[i]
		}
	}
	return nil
}

func evalRootKeys(e *env) []Finding {
	fix := "# sign in as the root user; root access keys cannot be deleted by IAM principals\naws iam list-access-keys   # with the root user's credentials\naws iam delete-access-key --access-key-id <ROOT_ACCESS_KEY_ID>"
	if sm := e.s.IAM.AccountSummary; sm != nil {
		n := sm.SummaryMap["AccountAccessKeysPresent"]
		if n > 0 {
			return []Finding{fail("", e.rootARN(), fmt.Sprintf("GetAccountSummary: AccountAccessKeysPresent is %d", n), fix)}
		}
		return []Finding{pass("", e.rootARN(), "GetAccountSummary: AccountAccessKeysPresent is 0")}
	}
	return e.withCredentials(func([]iamstate.CredentialReportRow) []Finding {
		r := e.rootRow()
		if r == nil {
			return []Finding{notAssessable("", e.rootARN(), "the credential report has no <root_account> row")}
		}
		if r.AccessKeys[0].Active.On() || r.AccessKeys[1].Active.On() {
			return []Finding{fail("", e.rootARN(), fmt.Sprintf("credential report: access_key_1_active=%s, access_key_2_active=%s", r.AccessKeys[0].Active, r.AccessKeys[1].Active), fix)}
		}
		return []Finding{pass("", e.rootARN(), "credential report: the root user has no active access key")}
	})
}

const rootMFAFix = "# sign in as the root user (MFA for root cannot be enabled by IAM principals)\naws iam create-virtual-mfa-device --virtual-mfa-device-name root-account-mfa-device --outfile root-mfa.png --bootstrap-method QRCodePNG\naws iam enable-mfa-device --user-name root --serial-number arn:aws:iam::%s:mfa/root-account-mfa-device --authentication-code1 <CODE1> --authentication-code2 <CODE2>\n# or, better, register a hardware or passkey MFA device on the console's Security credentials page"

func (e *env) rootMFAEnabled() (enabled bool, evidence string, ok bool) {
	if sm := e.s.IAM.AccountSummary; sm != nil {
		n := sm.SummaryMap["AccountMFAEnabled"]
		return n > 0, fmt.Sprintf("GetAccountSummary: AccountMFAEnabled is %d", n), true
	}
	if r := e.rootRow(); r != nil {
		return r.MFAActive.On(), "credential report: root mfa_active=" + string(r.MFAActive), true
	}
	if e.credErr != "" {
		return false, e.credErr, false
	}
	return false, "the credential report has no <root_account> row", false
}

func evalRootMFA(e *env) []Finding {
	on, ev, ok := e.rootMFAEnabled()
	switch {
	case !ok:
		return []Finding{notAssessable("", e.rootARN(), ev)}
	case on:
		return []Finding{pass("", e.rootARN(), ev)}
	default:
		return []Finding{fail("", e.rootARN(), ev, fmt.Sprintf(rootMFAFix, e.acct))}
	}
}

func evalRootHardwareMFA(e *env) []Finding {
	on, ev, ok := e.rootMFAEnabled()
	fix := "# sign in as the root user and register a hardware MFA device (or passkey) on the Security credentials page, then remove the virtual device:\naws iam deactivate-mfa-device --user-name root --serial-number %s\naws iam delete-virtual-mfa-device --serial-number %s"
	switch {
	case !ok:
		return []Finding{notAssessable("", e.rootARN(), ev)}
	case !on:
		return []Finding{fail("", e.rootARN(), ev+": root has no MFA at all", fmt.Sprintf(rootMFAFix, e.acct))}
	}
	v := e.s.IAM.VirtualMFADevices
	if v == nil {
		return []Finding{notAssessable("", e.rootARN(), notRead(e.s, "", "iam", "ListVirtualMFADevices", "the virtual MFA device list"))}
	}
	for _, d := range v.VirtualMFADevices {
		if (d.User != nil && strings.HasSuffix(d.User.Arn, ":root")) || strings.HasSuffix(d.SerialNumber, ":mfa/root-account-mfa-device") {
			return []Finding{fail("", e.rootARN(), "root MFA is the virtual device "+d.SerialNumber, fmt.Sprintf(fix, d.SerialNumber, d.SerialNumber))}
		}
	}
	return []Finding{pass("", e.rootARN(), ev+", and no virtual MFA device is assigned to root")}
}

func evalRootUsage(e *env) []Finding {
	return e.withCredentials(func([]iamstate.CredentialReportRow) []Finding {
		r := e.rootRow()
		if r == nil {
			return []Finding{notAssessable("", e.rootARN(), "the credential report has no <root_account> row")}
		}
		var uses []string
		for _, c := range []struct {
			col string
			at  iamstate.Stamp
		}{{"password_last_used", r.PasswordLastUsed}, {"access_key_1_last_used_date", r.AccessKeys[0].LastUsedDate}, {"access_key_2_last_used_date", r.AccessKeys[1].LastUsedDate}} {
			if t := c.at.Time; c.at.Known() && e.now.Sub(t) < 90*24*time.Hour {
				uses = append(uses, fmt.Sprintf("%s=%s", c.col, t.Format(time.RFC3339)))
			}
		}
		if len(uses) > 0 {
			return []Finding{fail("", e.rootARN(), "root used in the last 90 days: "+strings.Join(uses, ", "),
				"# give administrators their own identities (IAM Identity Center or IAM roles) and keep root for the few tasks that need it;\n# see what root did in the dataset: iamlens cis --store <STORE> (control monitor-root-usage)\n# and delete any root access key: aws iam delete-access-key --access-key-id <ROOT_ACCESS_KEY_ID>   # as root")}
		}
		return []Finding{pass("", e.rootARN(), "root not used in the last 90 days (password_last_used="+r.PasswordLastUsed.Raw+")")}
	})
}

// passwordRule builds a password-policy check: ok reports whether the
// current policy satisfies the rule.
func passwordRule(ok func(*PasswordPolicy) (bool, string)) func(*env) []Finding {
	return func(e *env) []Finding {
		pp := e.s.IAM.PasswordPolicy
		if pp == nil {
			return []Finding{notAssessable("", e.rootARN(), notRead(e.s, "", "iam", "GetAccountPasswordPolicy", "the password policy"))}
		}
		if pp.PasswordPolicy == nil {
			return []Finding{fail("", e.rootARN(), "the account has no password policy (GetAccountPasswordPolicy: NoSuchEntity)", passwordPolicyFix(nil, e.bench))}
		}
		good, ev := ok(pp.PasswordPolicy)
		if good {
			return []Finding{pass("", e.rootARN(), ev)}
		}
		return []Finding{fail("", e.rootARN(), ev, passwordPolicyFix(pp.PasswordPolicy, e.bench))}
	}
}

// passwordPolicyFix is the one update-account-password-policy line that
// passes every password control of the benchmark. The call replaces the
// whole policy (an omitted flag resets that setting), so the line keeps each
// current setting that is already stricter.
func passwordPolicyFix(cur *PasswordPolicy, bench Benchmark) string {
	var p PasswordPolicy
	if cur != nil {
		p = *cur
	}
	p.MinimumPasswordLength = max(p.MinimumPasswordLength, 14)
	p.PasswordReusePrevention = max(p.PasswordReusePrevention, 24)
	p.RequireUppercaseCharacters, p.RequireLowercaseCharacters, p.RequireNumbers, p.RequireSymbols = true, true, true, true
	if cur == nil {
		p.AllowUsersToChangePassword = true
	}
	if bench == V120 && (p.MaxPasswordAge == 0 || p.MaxPasswordAge > 90) {
		p.MaxPasswordAge = 90
	}
	args := []string{"aws iam update-account-password-policy",
		fmt.Sprintf("--minimum-password-length %d", p.MinimumPasswordLength),
		"--require-uppercase-characters", "--require-lowercase-characters", "--require-numbers", "--require-symbols",
		fmt.Sprintf("--password-reuse-prevention %d", p.PasswordReusePrevention)}
	if p.MaxPasswordAge > 0 {
		args = append(args, fmt.Sprintf("--max-password-age %d", p.MaxPasswordAge))
	}
	if p.AllowUsersToChangePassword {
		args = append(args, "--allow-users-to-change-password")
	} else {
		args = append(args, "--no-allow-users-to-change-password")
	}
	if p.HardExpiry {
		args = append(args, "--hard-expiry")
	}
	return strings.Join(args, " ")
}

// users runs fn for every IAM user row (not root) of the credential report.
func (e *env) users(fn func(r *iamstate.CredentialReportRow) *Finding, passEvidence string) []Finding {
	return e.withCredentials(func(rows []iamstate.CredentialReportRow) []Finding {
		var out []Finding
		n := 0
		for i := range rows {
			r := &rows[i]
			if r.IsRoot() {
				continue
			}
			n++
			if f := fn(r); f != nil {
				out = append(out, *f)
			}
		}
		if len(out) == 0 {
			out = append(out, pass("", e.rootARN(), fmt.Sprintf("%d IAM users: %s", n, passEvidence)))
		}
		return out
	})
}

func evalUserMFA(e *env) []Finding {
	return e.users(func(r *iamstate.CredentialReportRow) *Finding {
		if r.PasswordEnabled.On() && !r.MFAActive.On() {
			u := r.User
			f := fail("", r.ARN, "credential report: password_enabled=true, mfa_active=false",
				fmt.Sprintf("aws iam create-virtual-mfa-device --virtual-mfa-device-name %s --outfile %s-mfa.png --bootstrap-method QRCodePNG\naws iam enable-mfa-device --user-name %s --serial-number arn:%s:iam::%s:mfa/%s --authentication-code1 <CODE1> --authentication-code2 <CODE2>\n# or remove the console password: aws iam delete-login-profile --user-name %s",
					shq(u), shq(u), shq(u), e.part, e.acct, u, shq(u)))
			return &f
		}
		return nil
	}, "every user with a console password has MFA")
}

func keyFix(user string, n int) string {
	return fmt.Sprintf("aws iam update-access-key --user-name %s --status Inactive --access-key-id <KEY_%d_ID>   # <KEY_%d_ID>: aws iam list-access-keys --user-name %s\n# once nothing breaks: aws iam delete-access-key --user-name %s --access-key-id <KEY_%d_ID>",
		shq(user), n, n, shq(user), shq(user), n)
}

func evalKeysAtSetup(e *env) []Finding {
	return e.users(func(r *iamstate.CredentialReportRow) *Finding {
		if !r.PasswordEnabled.On() {
			return nil
		}
		for i, k := range r.AccessKeys {
			n := i + 1
			if k.Active.On() && k.LastUsedDate.Is(iamstate.NA) {
				f := fail("", r.ARN, fmt.Sprintf("console user with active access key %d (rotated %s) that was never used", n, k.LastRotated), keyFix(r.User, n))
				return &f
			}
		}
		return nil
	}, "no console user has a never-used active access key")
}

func (e *env) unusedDays() int {
	if e.ctl.Days > 0 {
		return e.ctl.Days
	}
	return 45
}

func evalUnusedCredentials(e *env) []Finding {
	days := e.unusedDays()
	limit := time.Duration(days) * 24 * time.Hour
	return e.withCredentials(func(rows []iamstate.CredentialReportRow) []Finding {
		var out []Finding
		n := 0
		for i := range rows {
			r := &rows[i]
			if r.IsRoot() {
				continue
			}
			n++
			u := r.User
			if r.PasswordEnabled.On() {
				last, ok := r.PasswordLastUsed.Time, r.PasswordLastUsed.Known()
				what := "last used"
				if !ok {
					last, ok = r.PasswordLastChanged.Time, r.PasswordLastChanged.Known()
					what = "never used, set"
				}
				if !ok {
					last, ok = r.UserCreationTime.Time, r.UserCreationTime.Known()
					what = "never used, user created"
				}
				if ok && e.now.Sub(last) >= limit {
					f := fail("", r.ARN, fmt.Sprintf("console password %s %s (%d days ago; limit %d)", what, last.Format("2006-01-02"), int(e.now.Sub(last).Hours()/24), days),
						"aws iam delete-login-profile --user-name "+shq(u))
					f.Part = "password"
					out = append(out, f)
				}
			}
			for i, key := range r.AccessKeys {
				k := i + 1
				if !key.Active.On() {
					continue
				}
				last, ok := key.LastUsedDate.Time, key.LastUsedDate.Known()
				what := "last used"
				if !ok {
					last, ok = key.LastRotated.Time, key.LastRotated.Known()
					what = "never used, created"
				}
				if ok && e.now.Sub(last) >= limit {
					f := fail("", r.ARN, fmt.Sprintf("access key %d %s %s (%d days ago; limit %d)", k, what, last.Format("2006-01-02"), int(e.now.Sub(last).Hours()/24), days), keyFix(u, k))
					f.Part = fmt.Sprintf("access_key_%d", k)
					out = append(out, f)
				}
			}
		}
		if len(out) == 0 {
			out = append(out, pass("", e.rootARN(), fmt.Sprintf("%d IAM users: every enabled password and active key was used in the last %d days", n, days)))
		}
		return out
	})
}

func evalOneActiveKey(e *env) []Finding {
	return e.users(func(r *iamstate.CredentialReportRow) *Finding {
		if r.AccessKeys[0].Active.On() && r.AccessKeys[1].Active.On() {
			f := fail("", r.ARN, fmt.Sprintf("two active access keys (rotated %s and %s)", r.AccessKeys[0].LastRotated, r.AccessKeys[1].LastRotated), keyFix(r.User, 1))
			return &f
		}
		return nil
	}, "no user has two active access keys")
}

func evalKeyRotation(e *env) []Finding {
	return e.withCredentials(func(rows []iamstate.CredentialReportRow) []Finding {
		var out []Finding
		n := 0
		for i := range rows {
			r := &rows[i]
			if r.IsRoot() {
				continue
			}
			n++
			for j, key := range r.AccessKeys {
				k := j + 1
				if !key.Active.On() {
					continue
				}
				if t := key.LastRotated.Time; key.LastRotated.Known() && e.now.Sub(t) > 90*24*time.Hour {
					u := r.User
					f := fail("", r.ARN, fmt.Sprintf("access key %d last rotated %s (%d days ago)", k, t.Format("2006-01-02"), int(e.now.Sub(t).Hours()/24)),
						fmt.Sprintf("aws iam create-access-key --user-name %s   # deploy the new key, then:\n%s", shq(u), keyFix(u, k)))
					f.Part = fmt.Sprintf("access_key_%d", k)
					out = append(out, f)
				}
			}
		}
		if len(out) == 0 {
			out = append(out, pass("", e.rootARN(), fmt.Sprintf("%d IAM users: every active key was rotated in the last 90 days", n)))
		}
		return out
	})
}

// gaad returns the account state when the authorization details were
// read, else one NOT_ASSESSABLE finding.
func (e *env) gaad() (*iamstate.Account, []Finding) {
	if e.s.IAM.AuthorizationDetails != nil {
		return e.iam, nil
	}
	return nil, []Finding{notAssessable("", e.rootARN(), notRead(e.s, "", "iam", "GetAccountAuthorizationDetails", "the account authorization details"))}
}

func evalUserPolicies(e *env) []Finding {
	d, na := e.gaad()
	if d == nil {
		return na
	}
	var out []Finding
	for _, u := range d.Users {
		var names, fixes []string
		for _, p := range u.AttachedPolicies {
			names = append(names, p.PolicyArn)
			fixes = append(fixes, fmt.Sprintf("aws iam detach-user-policy --user-name %s --policy-arn %s", shq(u.Name), p.PolicyArn))
		}
		for _, p := range u.InlinePolicies {
			names = append(names, "inline "+p.Name)
			fixes = append(fixes, fmt.Sprintf("aws iam delete-user-policy --user-name %s --policy-name %s", shq(u.Name), shq(p.Name)))
		}
		if len(names) > 0 {
			out = append(out, fail("", u.ARN, "policies attached to the user: "+strings.Join(names, ", "),
				"# grant the same permissions through a group first (aws iam add-user-to-group), then:\n"+strings.Join(fixes, "\n")))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("", e.rootARN(), fmt.Sprintf("none of %d users has a policy of its own", len(d.Users))))
	}
	return out
}

// isFullAdmin reports whether a statement allows "*" on "*".
func isFullAdmin(s iampolicy.Statement) bool {
	if !strings.EqualFold(s.Effect, "Allow") {
		return false
	}
	star := func(xs []string) bool {
		for _, x := range xs {
			if x == "*" || x == "*:*" {
				return true
			}
		}
		return false
	}
	return star(s.Action) && star(s.Resource)
}

func evalAdminPolicies(e *env) []Finding {
	d, na := e.gaad()
	if d == nil {
		return na
	}
	var out []Finding
	n := 0
	created := e.ctl.Scope == ScopeCreated
	for _, p := range d.Policies {
		if p.AWSManaged || (!created && p.AttachmentCount == 0) {
			continue
		}
		n++
		v := p.Default
		switch {
		case v == nil:
		case v.Document == nil:
			out = append(out, notAssessable("", p.ARN, fmt.Sprintf("default version %s: the document does not parse", v.ID)))
		default:
			for _, s := range v.Document.Statement {
				if isFullAdmin(s) {
					fix := fmt.Sprintf("# replace it with what the principals use (iamlens policy generates it), then:\naws iam create-policy-version --policy-arn %s --policy-document file://least-privilege.json --set-as-default\n# or detach it: aws iam list-entities-for-policy --policy-arn %s", p.ARN, p.ARN)
					if p.AttachmentCount == 0 {
						fix = fmt.Sprintf("# attached to nothing, and v1.2.0 asks that it not exist at all:\naws iam delete-policy --policy-arn %s   # delete its non-default versions first: aws iam list-policy-versions --policy-arn %s", p.ARN, p.ARN)
					}
					out = append(out, fail("", p.ARN, fmt.Sprintf("default version %s allows \"*\" on \"*\"; attached to %d entities", v.ID, p.AttachmentCount), fix))
					break
				}
			}
		}
	}
	if len(out) == 0 {
		what := "attached customer-managed policies"
		if created {
			what = "customer-managed policies (attached or not)"
		}
		out = append(out, pass("", e.rootARN(), fmt.Sprintf("none of %d %s allows \"*\" on \"*\"", n, what)))
	}
	return out
}

// attachedTo lists the entities a managed policy is attached to, from
// ListEntitiesForPolicy or else from the authorization details. ok is false
// when neither was read.
func (e *env) attachedTo(policyArn string) (entities []string, source string, ok bool) {
	if ef := e.s.IAM.EntitiesForPolicy[policyArn]; ef != nil {
		return ef.Entities(), "ListEntitiesForPolicy", true
	}
	if e.s.IAM.AuthorizationDetails == nil {
		return nil, "", false
	}
	has := func(ps []iamstate.AttachedPolicy) bool {
		for _, p := range ps {
			if p.PolicyArn == policyArn {
				return true
			}
		}
		return false
	}
	for _, u := range e.iam.Users {
		if has(u.AttachedPolicies) {
			entities = append(entities, "user/"+u.Name)
		}
	}
	for _, g := range e.iam.Groups {
		if has(g.AttachedPolicies) {
			entities = append(entities, "group/"+g.Name)
		}
	}
	for _, r := range e.iam.Roles {
		if has(r.AttachedPolicies) {
			entities = append(entities, "role/"+r.Name)
		}
	}
	return entities, "GetAccountAuthorizationDetails", true
}

func evalSupportRole(e *env) []Finding {
	arn := "arn:" + e.part + ":iam::aws:policy/AWSSupportAccess"
	ents, src, ok := e.attachedTo(arn)
	if !ok {
		return []Finding{notAssessable("", arn, notRead(e.s, "", "iam", "ListEntitiesForPolicy", "the entities of AWSSupportAccess"))}
	}
	if len(ents) == 0 {
		return []Finding{fail("", arn, src+": AWSSupportAccess is attached to nothing",
			fmt.Sprintf("aws iam create-role --role-name aws-support --assume-role-policy-document '{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:%s:iam::%s:root\"},\"Action\":\"sts:AssumeRole\"}]}'\naws iam attach-role-policy --role-name aws-support --policy-arn %s", e.part, e.acct, arn))}
	}
	return []Finding{pass("", arn, src+": AWSSupportAccess is attached to "+strings.Join(ents, ", "))}
}

func evalCloudShell(e *env) []Finding {
	arn := "arn:" + e.part + ":iam::aws:policy/AWSCloudShellFullAccess"
	ents, src, ok := e.attachedTo(arn)
	if !ok {
		return []Finding{notAssessable("", arn, notRead(e.s, "", "iam", "ListEntitiesForPolicy", "the entities of AWSCloudShellFullAccess"))}
	}
	if len(ents) == 0 {
		return []Finding{pass("", arn, src+": AWSCloudShellFullAccess is attached to nothing")}
	}
	var fixes []string
	for _, x := range ents {
		kind, name, _ := strings.Cut(x, "/")
		fixes = append(fixes, fmt.Sprintf("aws iam detach-%s-policy --%s-name %s --policy-arn %s", kind, kind, shq(name), arn))
	}
	return []Finding{fail("", arn, src+": AWSCloudShellFullAccess is attached to "+strings.Join(ents, ", "), strings.Join(fixes, "\n"))}
}

func evalExpiredCerts(e *env) []Finding {
	sc := e.s.IAM.ServerCertificates
	if sc == nil {
		return []Finding{notAssessable("", e.rootARN(), notRead(e.s, "", "iam", "ListServerCertificates", "the server certificate list"))}
	}
	var out []Finding
	for _, c := range sc.ServerCertificateMetadataList {
		if !c.Expiration.IsZero() && c.Expiration.Before(e.now) {
			out = append(out, fail("", c.Arn, "expired "+c.Expiration.Format(time.RFC3339), "aws iam delete-server-certificate --server-certificate-name "+shq(c.ServerCertificateName)))
		}
	}
	if len(out) == 0 {
		out = append(out, pass("", e.rootARN(), fmt.Sprintf("none of %d server certificates has expired", len(sc.ServerCertificateMetadataList))))
	}
	return out
}

// perRegion runs fn for each enabled region, or reports the region
// NOT_ASSESSABLE when it was not read.
func (e *env) perRegion(fn func(region string, rs *Region) []Finding) []Finding {
	var out []Finding
	for _, r := range e.s.EnabledRegions() {
		rs := e.s.Regions[r]
		if rs == nil {
			out = append(out, notAssessable(r, e.regionARN(r), "the region was not read"))
			continue
		}
		out = append(out, fn(r, rs)...)
	}
	if len(out) == 0 {
		out = append(out, notAssessable("", e.rootARN(), "the snapshot lists no region"))
	}
	return out
}

func (e *env) regionARN(region string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:region", e.part, region, e.acct)
}

func evalAccessAnalyzer(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		if rs.Analyzers == nil {
			return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "access-analyzer", "ListAnalyzers", "the analyzer list"))}
		}
		for _, a := range rs.Analyzers.Analyzers {
			if a.Status == "ACTIVE" {
				return []Finding{pass(r, a.Arn, fmt.Sprintf("analyzer %s (%s) is ACTIVE", a.Name, a.Type))}
			}
		}
		return []Finding{fail(r, e.regionARN(r), fmt.Sprintf("no ACTIVE analyzer among %d", len(rs.Analyzers.Analyzers)),
			fmt.Sprintf("aws accessanalyzer create-analyzer --analyzer-name iamlens-cis --type ACCOUNT --region %s", r))}
	})
}
