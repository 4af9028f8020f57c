package cloudtrail

import (
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
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

// Kinds lists every principal kind, in the order reports show them.
var Kinds = []string{
	KindIAMUser, KindRole, KindSSORole, KindServiceLinkedRole, KindRoot,
	KindFederatedUser, KindWebIdentity, KindSAML, KindAWSService,
	KindAWSAccount, KindIdentityCenter, KindUnknown,
}

// Principal is the stable identity behind one record's userIdentity block.
//
// Its strings alias the record's bytes (gjson does not copy): copy them
// before the record's buffer is reused.
type Principal struct {
	// ARN is the stable identity, the key every report groups by:
	//   - IAM user: the user ARN (with its path when the record has it);
	//   - assumed-role session: the role ARN with its path, from
	//     sessionContext.sessionIssuer.arn, else rebuilt from the session ARN
	//     without a path;
	//   - root: arn:<partition>:iam::<account>:root;
	//   - federated user (GetFederationToken): the federated-user ARN
	//     arn:aws:sts::<account>:federated-user/<name>; the IAM user that
	//     issued it is in Issuer;
	//   - AWS service: the service principal ("ec2.amazonaws.com") from invokedBy,
	//     or the event source of an AwsServiceEvent without userIdentity;
	//   - another account (AWSAccount): that account's root ARN;
	//   - web identity and SAML users: "web-identity:<provider>:<user>" and
	//     "saml:<provider>:<user>" (they are not IAM principals);
	//   - Identity Center user: arn:<partition>:identitystore:::user/<userId>;
	//   - "" when the record names nobody.
	ARN string
	// Kind is one of the Kind* constants.
	Kind string
	// Account is the principal's own account (not the recipient's); "" when
	// the record does not say.
	Account string
	// SessionName is the role session name or federated user name.
	SessionName string

	// InvokedBy is the AWS service that made the call on the principal's
	// behalf ("cloudformation.amazonaws.com", "AWS Internal"), "" for a
	// direct call. For KindAWSService it equals ARN.
	InvokedBy string
	// Issuer is the identity that issued the session: the IAM user behind a
	// federated user. For roles it equals ARN and is left empty.
	Issuer string
	// PermissionSet is the IAM Identity Center permission-set name of an
	// sso-role ("AdministratorAccess" for AWSReservedSSO_AdministratorAccess_0123456789abcdef).
	PermissionSet string
	// IdentityProvider is the web-identity or SAML provider of a WebIdentityUser or
	// SAMLUser, or of an assumed-role session created by
	// AssumeRoleWithWebIdentity (sessionContext.webIdFederationData.federatedProvider).
	IdentityProvider string
	// TargetRole is, for a WebIdentityUser or SAMLUser calling
	// AssumeRoleWithWebIdentity or AssumeRoleWithSAML, the role being assumed
	// (requestParameters.roleArn): the principal of every later call of that
	// session. Set only when the Context carries it.
	TargetRole string
}

// Context is what ResolveWith may use from the rest of the record. Every
// field is optional; the zero value makes ResolveWith equal ResolvePrincipal.
type Context struct {
	RecipientAccount string // recipientAccountId
	EventType        string // eventType: "AwsServiceEvent" names a service without userIdentity
	EventSource      string // eventSource
	Region           string // awsRegion: picks the partition when no ARN says it
	RoleARN          string // requestParameters.roleArn of an AssumeRole* call
}

// ResolvePrincipal names the caller of one record from its userIdentity
// value (which may not exist). ResolveWith names more callers when the rest
// of the record is at hand.
func ResolvePrincipal(ui gjson.Result) Principal {
	return ResolveWith(ui, Context{})
}

// Path reads the value at keys from v one level at a time, taking at each
// level the first member of a repeated key: the rule by which iamlens reads
// every JSON object of a record (the splitter, ParseIdentity, the
// builder's columns, the analyzer's reads of requestParameters). gjson's
// dotted paths differ: when the first member lacks the rest of the path
// they go on into a later duplicate. Keys are compared as they are, with
// no path syntax.
func Path(v gjson.Result, keys ...string) gjson.Result {
	for _, k := range keys {
		if !v.IsObject() {
			return gjson.Result{}
		}
		var next gjson.Result
		v.ForEach(func(key, val gjson.Result) bool {
			if key.Str == k {
				next = val
				return false
			}
			return true
		})
		v = next
	}
	return v
}

// ResolveRecord is ResolveWith over a whole record (the first of a
// repeated key, as everywhere).
func ResolveRecord(rec gjson.Result) Principal {
	var fields [6]gjson.Result
	rec.ForEach(func(k, v gjson.Result) bool {
		i := -1
		switch k.Str {
		case "userIdentity":
			i = 0
		case "recipientAccountId":
			i = 1
		case "eventType":
			i = 2
		case "eventSource":
			i = 3
		case "awsRegion":
			i = 4
		case "requestParameters":
			i = 5
		}
		if i >= 0 && !fields[i].Exists() {
			fields[i] = v
		}
		return true
	})
	return ResolveWith(fields[0], Context{
		RecipientAccount: fields[1].Str,
		EventType:        fields[2].Str,
		EventSource:      fields[3].Str,
		Region:           fields[4].Str,
		RoleARN:          fields[5].Get("roleArn").Str,
	})
}

// Identity holds the fields of a userIdentity block, read in one pass (the
// decoder's hot path: one Get per field would rescan the object each time),
// with the few of its sessionContext that naming the caller reads. A key
// that repeats keeps its first value, as gjson's Get does.
type Identity struct {
	Raw                                          gjson.Result
	Type, ARN, AccountID, InvokedBy              gjson.Result
	UserName, PrincipalID, AccessKeyID           gjson.Result
	IdentityProvider, SessionContext, OnBehalfOf gjson.Result
	// from sessionContext: sessionIssuer's arn and accountId,
	// attributes.mfaAuthenticated, webIdFederationData.federatedProvider
	IssuerARN, IssuerAccountID, MFAAuthenticated, FederatedProvider gjson.Result
}

// ParseIdentity reads a userIdentity value's fields in one pass. A key
// that repeats, at any depth, keeps its first value, as gjson's Get does.
func ParseIdentity(ui gjson.Result) Identity {
	id := Identity{Raw: ui}
	if !ui.IsObject() {
		return id
	}
	set := func(f *gjson.Result, v string, esc bool) {
		if !f.Exists() {
			*f = memberResult(v, esc)
		}
	}
	eachMember(ui.Raw, func(k, v string, esc bool) {
		switch k {
		case "type":
			set(&id.Type, v, esc)
		case "arn":
			set(&id.ARN, v, esc)
		case "accountId":
			set(&id.AccountID, v, esc)
		case "invokedBy":
			set(&id.InvokedBy, v, esc)
		case "userName":
			set(&id.UserName, v, esc)
		case "principalId":
			set(&id.PrincipalID, v, esc)
		case "accessKeyId":
			set(&id.AccessKeyID, v, esc)
		case "identityProvider":
			set(&id.IdentityProvider, v, esc)
		case "sessionContext":
			if !id.SessionContext.Exists() {
				id.SessionContext = memberResult(v, esc)
				id.sessionContext(v)
			}
		case "onBehalfOf":
			set(&id.OnBehalfOf, v, esc)
		}
	})
	return id
}

// sessionContext reads the members of a sessionContext object that naming
// the caller needs: of each object, the first.
func (id *Identity) sessionContext(raw string) {
	var issuer, attrs, web bool
	eachMember(raw, func(k, v string, _ bool) {
		switch {
		case k == "sessionIssuer" && !issuer:
			issuer = true
			id.IssuerARN, id.IssuerAccountID = firstMember(v, "arn"), firstMember(v, "accountId")
		case k == "attributes" && !attrs:
			attrs = true
			id.MFAAuthenticated = firstMember(v, "mfaAuthenticated")
		case k == "webIdFederationData" && !web:
			web = true
			id.FederatedProvider = firstMember(v, "federatedProvider")
		}
	})
}

// firstMember is the value of the object raw's member key (its first, if
// the key repeats).
func firstMember(raw, key string) gjson.Result {
	var r gjson.Result
	eachMember(raw, func(k, v string, esc bool) {
		if k == key && !r.Exists() {
			r = memberResult(v, esc)
		}
	})
	return r
}

// ResolveWith names the caller of one record from its userIdentity value
// and what c says of the rest of the record.
func ResolveWith(ui gjson.Result, c Context) Principal {
	return ResolveIdentity(ParseIdentity(ui), c)
}

// ResolveIdentity is ResolveWith over an already parsed userIdentity.
func ResolveIdentity(id Identity, c Context) Principal {
	ui := id.Raw
	if !ui.IsObject() || isEmptyObject(ui) {
		// AwsServiceEvent records may have no userIdentity at all: the
		// service that emitted the event is the actor.
		if c.EventType == "AwsServiceEvent" && c.EventSource != "" {
			return Principal{ARN: c.EventSource, Kind: KindAWSService, InvokedBy: c.EventSource}
		}
		return Principal{Kind: KindUnknown}
	}
	typ := id.Type.Str
	self := id.ARN.Str
	parsed, _ := arn.Parse(self) // the zero ARN when it is none
	acct := id.AccountID.Str
	p := Principal{Account: acct, InvokedBy: id.InvokedBy.Str}
	partition := partitionOf(parsed, c.Region)
	switch typ {
	case "IAMUser":
		p.ARN, p.Kind = self, KindIAMUser
		if p.ARN == "" && acct != "" {
			// Console sign-in events (CheckMfa, ConsoleLogin failures) name
			// the user but carry no ARN; the user's path is then unknown.
			if name := id.UserName.Str; name != "" {
				p.ARN = "arn:" + partition + ":iam::" + acct + ":user/" + name
			}
		}
	case "Root":
		p.ARN, p.Kind = self, KindRoot
		if p.Account == "" {
			p.Account = parsed.AccountID
		}
		if p.Account == "" {
			// The root user only ever acts in its own account.
			p.Account = c.RecipientAccount
		}
		if p.ARN == "" && p.Account != "" {
			p.ARN = "arn:" + partition + ":iam::" + p.Account + ":root"
		}
	case "AssumedRole":
		p.ARN = id.IssuerARN.Str
		if p.ARN == "" {
			p.ARN = roleFromSessionARN(parsed, self)
		}
		if p.Account == "" {
			p.Account = firstNonEmpty(id.IssuerAccountID.Str, accountOfARN(p.ARN))
		}
		p.SessionName = sessionFromARN(parsed)
		p.Kind = roleKind(p.ARN)
		if p.Kind == KindSSORole {
			p.PermissionSet = PermissionSetName(p.ARN)
		}
		p.IdentityProvider = id.FederatedProvider.Str
	case "FederatedUser":
		// Decision: the federated-user ARN is the principal (each name is a
		// distinct set of sessions with its own session policy); the IAM
		// user that called GetFederationToken, whose policy bounds them, is
		// kept in Issuer.
		p.ARN, p.Kind = self, KindFederatedUser
		p.SessionName = sessionFromARN(parsed)
		p.Issuer = id.IssuerARN.Str
		if p.ARN == "" && acct != "" {
			if name, ok := strings.CutPrefix(id.PrincipalID.Str, acct+":"); ok && name != "" {
				p.ARN = "arn:" + partition + ":sts::" + acct + ":federated-user/" + name
				p.SessionName = name
			}
		}
	case "WebIdentityUser":
		p.Kind = KindWebIdentity
		p.IdentityProvider = id.IdentityProvider.Str
		p.ARN = "web-identity:" + p.IdentityProvider + ":" + id.UserName.Str
		p.TargetRole = c.RoleARN
	case "SAMLUser":
		p.Kind = KindSAML
		p.IdentityProvider = id.IdentityProvider.Str
		p.ARN = "saml:" + p.IdentityProvider + ":" + id.UserName.Str
		p.TargetRole = c.RoleARN
	case "AWSService":
		p.Kind = KindAWSService
		p.ARN = p.InvokedBy
		if p.ARN == "" && c.EventSource != "" {
			p.ARN, p.InvokedBy = c.EventSource, c.EventSource
		}
	case "AWSAccount":
		// Another account's principal: CloudTrail gives only its account and
		// unique ID ("AIDA…" for a user, "AROA…:session" for a role session,
		// in principalId), so the account is the most exact name there is.
		p.Kind = KindAWSAccount
		p.ARN = self
		if p.ARN == "" && acct != "" {
			p.ARN = "arn:" + partition + ":iam::" + acct + ":root"
		}
		if _, s, ok := strings.Cut(id.PrincipalID.Str, ":"); ok {
			p.SessionName = s
		}
	case "IdentityCenterUser":
		p.Kind = KindIdentityCenter
		obo := id.OnBehalfOf
		if store := obo.Get("identityStoreArn").Str; store != "" {
			partition = partitionOf(parseARN(store), c.Region)
		}
		if id := obo.Get("userId").Str; id != "" {
			p.ARN = "arn:" + partition + ":identitystore:::user/" + id
		}
	default:
		// "Unknown" (older Identity Center sign-ins) and records with no
		// type: a service acting alone (AwsServiceEvent with only accountId
		// and invokedBy) is an AWS service; anything else names nobody
		// we can trust.
		p.Kind = KindUnknown
		p.ARN = self
		if typ == "" && self == "" && p.InvokedBy != "" {
			p.Kind, p.ARN = KindAWSService, p.InvokedBy
		}
	}
	return p
}

// IsCrossAccount reports whether a principal of principalAccount called into
// recipientAccount, a different account. Either being unknown ("") is not
// cross-account.
func IsCrossAccount(principalAccount, recipientAccount string) bool {
	return principalAccount != "" && recipientAccount != "" && principalAccount != recipientAccount
}

// roleKind labels a role ARN: Identity Center permission-set roles live under
// /aws-reserved/sso.amazonaws.com/ and are named AWSReservedSSO_*;
// service-linked roles live under /aws-service-role/ and are named
// AWSServiceRoleFor* (the name alone decides when the path was lost).
func roleKind(roleARN string) string {
	switch {
	case strings.Contains(roleARN, ":role/aws-reserved/sso.amazonaws.com/") || strings.Contains(roleARN, "/AWSReservedSSO_"):
		return KindSSORole
	case strings.Contains(roleARN, ":role/aws-service-role/") || strings.Contains(roleARN, ":role/AWSServiceRoleFor"):
		return KindServiceLinkedRole
	default:
		return KindRole
	}
}

// PermissionSetName derives the Identity Center permission-set name from a
// role ARN (or session ARN) whose role is AWSReservedSSO_<name>_<16 hex>;
// "" when the role is not a permission-set role. Permission-set names may
// contain underscores, so only a trailing 16-hex-digit suffix is removed.
func PermissionSetName(roleARN string) string {
	i := strings.Index(roleARN, "AWSReservedSSO_")
	if i < 0 {
		return ""
	}
	name := roleARN[i+len("AWSReservedSSO_"):]
	if j := strings.IndexByte(name, '/'); j >= 0 {
		name = name[:j]
	}
	if k := strings.LastIndexByte(name, '_'); k >= 0 && isHex(name[k+1:]) && len(name)-k-1 == 16 {
		name = name[:k]
	}
	return name
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}

// roleFromSessionARN turns arn:aws:sts::123:assumed-role/Name/session into
// arn:aws:iam::123:role/Name; anything else is returned as it is (raw). The
// role's path is not in a session ARN; this is the fallback when the
// session issuer is missing.
func roleFromSessionARN(a arn.ARN, raw string) string {
	rest, ok := strings.CutPrefix(a.Resource, "assumed-role/")
	if !ok {
		return raw
	}
	name, _, _ := strings.Cut(rest, "/")
	return arn.ARN{Partition: a.Partition, Service: "iam", AccountID: a.AccountID, Resource: "role/" + name}.String()
}

// IsLongTermKey reports whether an access key ID is a long-term key of an
// IAM user or the root user (AKIA…), as opposed to a temporary one of a
// session (ASIA…).
func IsLongTermKey(id string) bool { return strings.HasPrefix(id, "AKIA") }

// WithoutSession returns a caller's ARN without its session name: an
// assumed-role session ARN (arn:aws:sts::123:assumed-role/Name/session)
// loses its last part, other ARNs are returned as they are. The usage
// rollup keys calls on it: one row for a role's calls however many
// sessions made them (the action mapper reads only the ARN's partition
// and, for IAM users, the ARN whole).
func WithoutSession(s string) string {
	if !strings.Contains(s, ":assumed-role/") {
		return s
	}
	a, err := arn.Parse(s)
	if err != nil {
		return s
	}
	rest, ok := strings.CutPrefix(a.Resource, "assumed-role/")
	if !ok {
		return s
	}
	name, _, _ := strings.Cut(rest, "/")
	a.Resource = "assumed-role/" + name
	return a.String()
}

// sessionFromARN returns the last path element of a session
// (assumed-role/Name/session) or federated-user ARN, "" for any other.
func sessionFromARN(a arn.ARN) string {
	if rest, ok := strings.CutPrefix(a.Resource, "assumed-role/"); ok {
		if i := strings.LastIndexByte(rest, '/'); i >= 0 {
			return rest[i+1:]
		}
		return "" // assumed-role/Name has no session part
	}
	if rest, ok := strings.CutPrefix(a.Resource, "federated-user/"); ok {
		return rest[strings.LastIndexByte(rest, '/')+1:]
	}
	return ""
}

// parseARN parses s with the SDK's ARN parser; anything that is not an ARN
// gives the zero ARN, whose fields are all "".
func parseARN(s string) arn.ARN {
	a, _ := arn.Parse(s)
	return a
}

// accountOfARN returns the account field of an ARN, "" if there is none.
func accountOfARN(s string) string { return parseARN(s).AccountID }

// RegionPartition is the partition a region belongs to ("aws" when unknown).
func RegionPartition(region string) string { return partitionOf(arn.ARN{}, region) }

// UsesEventSource reports whether ResolveIdentity reads the context's
// EventSource for this identity: only when the block is missing or empty,
// or the caller is an AWS service. For every other identity the context
// that matters is RecipientAccount, EventType and the region's partition.
func (id Identity) UsesEventSource() bool {
	return !id.Raw.IsObject() || isEmptyObject(id.Raw) || id.Type.Str == "AWSService"
}

// partitionOf returns the partition of an ARN, else the one the region
// belongs to (cn-* is aws-cn, us-gov-* is aws-us-gov), else "aws".
func partitionOf(a arn.ARN, region string) string {
	if a.Partition != "" {
		return a.Partition
	}
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(region, "us-iso-"):
		return "aws-iso"
	case strings.HasPrefix(region, "us-isob-"):
		return "aws-iso-b"
	}
	return "aws"
}

func isEmptyObject(v gjson.Result) bool {
	// v is an object (its callers check): empty when its braces hold only
	// white space
	s := strings.TrimLeft(v.Raw, " \t\r\n")
	if s, ok := strings.CutPrefix(s, "{"); ok {
		return strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "}")
	}
	return false
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
