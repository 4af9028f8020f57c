package cloudtrail

import (
	"strings"

	"github.com/tidwall/gjson"
)

// Principal kinds, stored in the principal_kind column.
const (
	KindIAMUser           = "iam-user"
	KindRole              = "role"
	KindSSORole           = "sso-role"
	KindServiceLinkedRole = "service-linked-role"
	KindRoot              = "root"
	KindFederatedUser     = "federated-user"
	KindWebIdentity       = "web-identity"
	KindSAML              = "saml"
	KindAWSService        = "aws-service"
	KindAWSAccount        = "aws-account"
	KindIdentityCenter    = "identity-center-user"
	KindUnknown           = "unknown"
)

// Principal is the stable identity behind one record's userIdentity block.
type Principal struct {
	// ARN is the stable identity: the IAM user ARN, the role ARN with its path
	// for assumed-role sessions (from the session issuer), the root ARN, the
	// federated-user ARN, the service principal name ("ec2.amazonaws.com")
	// for AWS services, and "" when the record names nobody.
	ARN string
	// Kind is one of the Kind* constants.
	Kind string
	// Account is the principal's own account (not the recipient's).
	Account string
	// SessionName is the role session name or federated user name.
	SessionName string
}

// ResolvePrincipal names the caller of one record from its userIdentity
// value (which may not exist).
func ResolvePrincipal(ui gjson.Result) Principal {
	if !ui.Exists() {
		return Principal{Kind: KindUnknown}
	}
	typ := ui.Get("type").Str
	arn := ui.Get("arn").Str
	acct := ui.Get("accountId").Str
	p := Principal{Account: acct}
	switch typ {
	case "IAMUser":
		p.ARN, p.Kind = arn, KindIAMUser
	case "Root":
		p.ARN, p.Kind = arn, KindRoot
		if p.ARN == "" && acct != "" {
			p.ARN = "arn:aws:iam::" + acct + ":root"
		}
	case "AssumedRole":
		issuer := ui.Get("sessionContext.sessionIssuer.arn").Str
		p.ARN = issuer
		if p.ARN == "" {
			p.ARN = roleFromSessionARN(arn)
		}
		p.SessionName = sessionFromARN(arn)
		p.Kind = roleKind(p.ARN)
	case "FederatedUser":
		p.ARN, p.Kind = arn, KindFederatedUser
		p.SessionName = sessionFromARN(arn)
	case "WebIdentityUser":
		p.Kind = KindWebIdentity
		p.ARN = "web-identity:" + ui.Get("identityProvider").Str + ":" + ui.Get("userName").Str
	case "SAMLUser":
		p.Kind = KindSAML
		p.ARN = "saml:" + ui.Get("identityProvider").Str + ":" + ui.Get("userName").Str
	case "AWSService":
		p.Kind = KindAWSService
		p.ARN = ui.Get("invokedBy").Str
	case "AWSAccount":
		p.Kind = KindAWSAccount
		p.ARN = arn
		if p.ARN == "" && acct != "" {
			p.ARN = "arn:aws:iam::" + acct + ":root"
		}
	case "IdentityCenterUser":
		p.Kind = KindIdentityCenter
		p.ARN = "identity-center:" + ui.Get("onBehalfOf.userId").Str
	default:
		p.Kind = KindUnknown
		p.ARN = arn
	}
	return p
}

// roleKind labels a role ARN: Identity Center permission-set roles live under
// /aws-reserved/sso.amazonaws.com/ and are named AWSReservedSSO_*;
// service-linked roles live under /aws-service-role/.
func roleKind(roleARN string) string {
	switch {
	case strings.Contains(roleARN, ":role/aws-reserved/sso.amazonaws.com/") || strings.Contains(roleARN, "/AWSReservedSSO_"):
		return KindSSORole
	case strings.Contains(roleARN, ":role/aws-service-role/"):
		return KindServiceLinkedRole
	default:
		return KindRole
	}
}

// roleFromSessionARN turns arn:aws:sts::123:assumed-role/Name/session into
// arn:aws:iam::123:role/Name. The role's path is not in a session ARN; this
// is the fallback when the session issuer is missing.
func roleFromSessionARN(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || !strings.HasPrefix(parts[5], "assumed-role/") {
		return arn
	}
	rest := strings.TrimPrefix(parts[5], "assumed-role/")
	name, _, _ := strings.Cut(rest, "/")
	return "arn:" + parts[1] + ":iam::" + parts[4] + ":role/" + name
}

// sessionFromARN returns the last path element of a session or
// federated-user ARN.
func sessionFromARN(arn string) string {
	i := strings.LastIndexByte(arn, '/')
	if i < 0 || !(strings.Contains(arn, ":assumed-role/") || strings.Contains(arn, ":federated-user/")) {
		return ""
	}
	return arn[i+1:]
}
