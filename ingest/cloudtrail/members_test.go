package cloudtrail

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/tidwall/gjson"
)

// checkMembers holds eachMember and memberResult to gjson's ForEach on any
// input: on a valid object, the same members in the same order, each key
// unescaped and each value the same gjson value; on anything else, no
// panic.
func checkMembers(t *testing.T, raw string) {
	t.Helper()
	type member struct {
		key string
		val gjson.Result
	}
	var got []member
	eachMember(raw, func(k, v string, esc bool) {
		got = append(got, member{k, memberResult(v, esc)})
	})
	if !json.Valid([]byte(raw)) || !gjson.Parse(raw).IsObject() {
		return
	}
	var want []member
	gjson.Parse(raw).ForEach(func(k, v gjson.Result) bool {
		want = append(want, member{k.Str, v})
		return true
	})
	if len(got) != len(want) {
		t.Fatalf("%q: %d members, gjson %d", raw, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.key != w.key || g.val.Type != w.val.Type || g.val.Raw != w.val.Raw || g.val.Str != w.val.Str || g.val.Num != w.val.Num {
			t.Fatalf("%q member %d: %q=%#v, gjson %q=%#v", raw, i, g.key, g.val, w.key, w.val)
		}
	}
}

func TestEachMember(t *testing.T) {
	for _, raw := range []string{
		`{}`, ` { } `, `{"a":1}`, `{"a" : "x" , "b":[1,{"c":"]}"}],"d":{"e":{"f":null}},"g":true,"h":-1.5e3}`,
		`{"k\"ey":"v\\\"al","\u0074ype":"\u00e9","x":"a\/b","y":"\\"}`, "{\n\t\"a\":\r\n\"b\"\n}",
		`{"long string value past a few words":"0123456789abcdef0123456789abcdef\"0123456789"}`,
		`not json`, `{"a"`, `{"a":`, `{"a":"unterminated`, `{"a":{"b":"c"`, `{"a":1,}`, `{"a":"\`, `["a",1]`, `"s"`, ``,
	} {
		checkMembers(t, raw)
	}
	// Every userIdentity block of the real logs, and its sessionContext.
	blocks := realIdentities(t)
	for _, ui := range blocks {
		checkMembers(t, ui.Raw)
		checkMembers(t, ui.Get("sessionContext").Raw)
	}
	if len(blocks) < 2900 {
		t.Fatalf("%d records read", len(blocks))
	}
}

// realIdentities is the userIdentity value of every record of the real
// logs, in file order (absent where a record has none).
func realIdentities(t testing.TB) []gjson.Result {
	t.Helper()
	var out []gjson.Result
	for _, data := range realLogsUnder(t) {
		_, _ = Records(data, func(rec gjson.Result) bool {
			out = append(out, rec.Get("userIdentity"))
			return true
		})
	}
	return out
}

func FuzzEachMember(f *testing.F) {
	for _, s := range []string{`{"a":"b","c":{"d":[1,"e\"}"]},"f":"\u0041"}`, `{"type":"AssumedRole","sessionContext":{"attributes":{"mfaAuthenticated":"false"}}}`, `{"a":`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) { checkMembers(t, raw) })
}

// ParseIdentity's one pass reads what gjson's paths read, for every
// userIdentity block of the real logs, and a repeated key's first value
// at every depth, as Path reads it (gjson's own dotted paths would go on
// into the second sessionContext for webIdFederationData).
func TestParseIdentityAgreesWithPaths(t *testing.T) {
	n := 0
	for _, ui := range realIdentities(t) {
		id := ParseIdentity(ui)
		for path, got := range map[string]gjson.Result{"type": id.Type, "arn": id.ARN, "accountId": id.AccountID,
			"invokedBy": id.InvokedBy, "userName": id.UserName, "principalId": id.PrincipalID, "accessKeyId": id.AccessKeyID,
			"identityProvider": id.IdentityProvider, "sessionContext": id.SessionContext, "onBehalfOf": id.OnBehalfOf,
			"sessionContext.sessionIssuer.arn": id.IssuerARN, "sessionContext.sessionIssuer.accountId": id.IssuerAccountID,
			"sessionContext.attributes.mfaAuthenticated":           id.MFAAuthenticated,
			"sessionContext.webIdFederationData.federatedProvider": id.FederatedProvider} {
			if want := ui.Get(path); got.Raw != want.Raw || got.Str != want.Str || got.Type != want.Type {
				t.Fatalf("%s in %s: %q, want %q", path, ui.Raw, got.Raw, want.Raw)
			}
		}
		if id.SessionContext.Exists() {
			n++
		}
	}
	if n < 100 {
		t.Fatalf("only %d blocks with a sessionContext", n)
	}
	dup := gjson.Parse(`{"arn":"a","sessionContext":{"sessionIssuer":{"arn":"x","arn":"w"},"sessionIssuer":{"arn":"v"},"attributes":{"mfaAuthenticated":"false"}},"arn":"b",` +
		`"sessionContext":{"sessionIssuer":{"arn":"y","arn":"z"},"attributes":{"mfaAuthenticated":"true"},"webIdFederationData":{"federatedProvider":"p"}}}`)
	id := ParseIdentity(dup)
	if id.ARN.Str != "a" || id.IssuerARN.Str != "x" || id.MFAAuthenticated.Str != "false" || id.FederatedProvider.Exists() {
		t.Errorf("repeated keys: arn %q, issuer %q, mfa %q, provider %q: want the first of each", id.ARN.Str, id.IssuerARN.Str, id.MFAAuthenticated.Raw, id.FederatedProvider.Raw)
	}
	for path, got := range map[string]gjson.Result{"arn": id.ARN, "sessionContext": id.SessionContext,
		"sessionContext.sessionIssuer.arn": id.IssuerARN, "sessionContext.attributes.mfaAuthenticated": id.MFAAuthenticated,
		"sessionContext.webIdFederationData.federatedProvider": id.FederatedProvider} {
		if want := Path(dup, strings.Split(path, ".")...); got.Raw != want.Raw {
			t.Errorf("repeated keys: %s %q, Path %q", path, got.Raw, want.Raw)
		}
	}
}
