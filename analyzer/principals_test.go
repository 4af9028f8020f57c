package analyzer

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"

	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestPrincipalListerInvictus feeds every record of the invictus sample
// through the lister and compares the IAM-user and role counts with counts
// made independently with encoding/json from the raw userIdentity blocks.
func TestPrincipalListerInvictus(t *testing.T) {
	type counts struct {
		events, errors int64
		first, last    time.Time
	}
	want := map[string]*counts{}
	l := NewPrincipalLister(PrincipalOptions{})
	total := 0
	files := 0
	ingesttest.LogFiles(t, ingesttest.Sample(t), func(path string, data []byte) {
		files++
		var log struct{ Records []json.RawMessage }
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&log); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, raw := range log.Records {
			total++
			var r struct {
				EventTime    time.Time `json:"eventTime"`
				ErrorCode    string    `json:"errorCode"`
				Recipient    string    `json:"recipientAccountId"`
				UserIdentity struct {
					Type           string `json:"type"`
					ARN            string `json:"arn"`
					AccountID      string `json:"accountId"`
					UserName       string `json:"userName"`
					SessionContext struct {
						SessionIssuer struct {
							ARN string `json:"arn"`
						} `json:"sessionIssuer"`
					} `json:"sessionContext"`
				} `json:"userIdentity"`
			}
			if err := json.Unmarshal(raw, &r); err != nil {
				t.Fatal(err)
			}
			key := ""
			switch r.UserIdentity.Type {
			case "IAMUser":
				key = r.UserIdentity.ARN
				if key == "" { // console sign-in steps name the user without an ARN
					key = "arn:aws:iam::" + r.UserIdentity.AccountID + ":user/" + r.UserIdentity.UserName
				}
			case "AssumedRole":
				key = r.UserIdentity.SessionContext.SessionIssuer.ARN
			}
			if key != "" {
				c := want[key]
				if c == nil {
					c = &counts{first: r.EventTime, last: r.EventTime}
					want[key] = c
				}
				c.events++
				if r.ErrorCode != "" {
					c.errors++
				}
				if r.EventTime.Before(c.first) {
					c.first = r.EventTime
				}
				if r.EventTime.After(c.last) {
					c.last = r.EventTime
				}
			}
			rec := gjson.ParseBytes(raw)
			p := cloudtrail.ResolveRecord(rec)
			l.Add([]PrincipalRow{{
				PrincipalARN: p.ARN, PrincipalKind: p.Kind, EventTime: r.EventTime.UnixMilli(),
				PrincipalAccount: p.Account, RecipientAccount: r.Recipient, ErrorCode: r.ErrorCode,
			}})
		}
	})
	if files == 0 {
		t.Fatal("no invictus files")
	}
	got := l.Summaries()
	var sum int64
	byARN := map[string]PrincipalSummary{}
	for _, s := range got {
		sum += s.Events
		byARN[s.ARN] = s
	}
	if sum != int64(total) {
		t.Errorf("summaries hold %d events, the files %d", sum, total)
	}
	if len(want) == 0 {
		t.Fatal("no IAM principals counted")
	}
	for arn, c := range want {
		s, ok := byARN[arn]
		if !ok {
			t.Errorf("%s missing from the summaries", arn)
			continue
		}
		if s.Events != c.events || s.Errors != c.errors || !s.FirstSeen.Equal(c.first) || !s.LastSeen.Equal(c.last) {
			t.Errorf("%s: got %d events, %d errors, %s..%s; want %d, %d, %s..%s",
				arn, s.Events, s.Errors, s.FirstSeen, s.LastSeen, c.events, c.errors, c.first, c.last)
		}
	}
	for i := 1; i < len(got); i++ {
		if got[i-1].ARN > got[i].ARN {
			t.Fatalf("not sorted by ARN: %q before %q", got[i-1].ARN, got[i].ARN)
		}
	}
	t.Logf("%d principals, %d of them IAM users or roles", len(got), len(want))
}

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UnixMilli()
}

var testRows = []PrincipalRow{
	{PrincipalARN: "arn:aws:iam::111111111111:user/alice", PrincipalKind: cloudtrail.KindIAMUser, EventTime: ms("2024-01-02T10:00:00Z"), PrincipalAccount: "111111111111", RecipientAccount: "111111111111", ErrorCode: ""},
	{PrincipalARN: "arn:aws:iam::111111111111:user/alice", PrincipalKind: cloudtrail.KindIAMUser, EventTime: ms("2024-01-01T09:00:00Z"), PrincipalAccount: "111111111111", RecipientAccount: "222222222222", ErrorCode: "AccessDenied"},
	{PrincipalARN: "arn:aws:iam::111111111111:user/alice", PrincipalKind: cloudtrail.KindIAMUser, EventTime: ms("2024-01-03T08:00:00Z"), PrincipalAccount: "111111111111", RecipientAccount: "111111111111", ErrorCode: ""},
	{PrincipalARN: "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef", PrincipalKind: cloudtrail.KindSSORole, EventTime: ms("2024-01-05T00:00:00Z"), PrincipalAccount: "111111111111", RecipientAccount: "111111111111", ErrorCode: ""},
	{PrincipalARN: "ec2.amazonaws.com", PrincipalKind: cloudtrail.KindAWSService, EventTime: ms("2024-01-04T00:00:00Z"), PrincipalAccount: "", RecipientAccount: "111111111111", ErrorCode: ""},
	{PrincipalARN: "", PrincipalKind: cloudtrail.KindUnknown, EventTime: ms("2024-01-04T00:00:00Z"), PrincipalAccount: "", RecipientAccount: "", ErrorCode: ""},
	{PrincipalARN: "", PrincipalKind: cloudtrail.KindUnknown, EventTime: ms("2024-01-04T01:00:00Z"), PrincipalAccount: "333333333333", RecipientAccount: "", ErrorCode: ""},
}

func TestPrincipalListerFilters(t *testing.T) {
	alice := "arn:aws:iam::111111111111:user/alice"
	tests := []struct {
		name   string
		opts   PrincipalOptions
		want   []string // ARN/kind, in order
		events map[string]int64
	}{
		{
			name:   "all",
			want:   []string{"/unknown", "arn:aws:iam::111111111111:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0123456789abcdef/sso-role", alice + "/iam-user", "ec2.amazonaws.com/aws-service"},
			events: map[string]int64{alice: 3, "": 2},
		},
		{
			name:   "kind",
			opts:   PrincipalOptions{Kinds: []string{cloudtrail.KindIAMUser}},
			want:   []string{alice + "/iam-user"},
			events: map[string]int64{alice: 3},
		},
		{
			name:   "from and to",
			opts:   PrincipalOptions{From: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 1, 3, 8, 0, 0, 0, time.UTC)},
			want:   []string{alice + "/iam-user"},
			events: map[string]int64{alice: 2},
		},
		{
			// The recipient account decides; a record without one falls back to the principal's.
			name:   "account",
			opts:   PrincipalOptions{Accounts: []string{"222222222222", "333333333333"}},
			want:   []string{"/unknown", alice + "/iam-user"},
			events: map[string]int64{alice: 1, "": 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewPrincipalLister(tt.opts)
			l.Add(testRows)
			got := l.Summaries()
			var names []string
			for _, s := range got {
				names = append(names, s.ARN+"/"+s.Kind)
				if w, ok := tt.events[s.ARN]; ok && s.Events != w {
					t.Errorf("%s: %d events, want %d", s.ARN, s.Events, w)
				}
			}
			if !reflect.DeepEqual(names, tt.want) {
				t.Errorf("got %q\nwant %q", names, tt.want)
			}
		})
	}
}

func TestPrincipalListerSummary(t *testing.T) {
	l := NewPrincipalLister(PrincipalOptions{})
	rows := append([]PrincipalRow(nil), testRows...)
	l.Add(rows)
	for i := range rows { // the lister must not alias the caller's rows
		rows[i].PrincipalARN = "overwritten"
	}
	var alice, sso PrincipalSummary
	for _, s := range l.Summaries() {
		switch s.Kind {
		case cloudtrail.KindIAMUser:
			alice = s
		case cloudtrail.KindSSORole:
			sso = s
		}
	}
	want := PrincipalSummary{
		ARN: "arn:aws:iam::111111111111:user/alice", Kind: cloudtrail.KindIAMUser,
		Events: 3, Errors: 1,
		FirstSeen:          time.Date(2024, 1, 1, 9, 0, 0, 0, time.UTC),
		LastSeen:           time.Date(2024, 1, 3, 8, 0, 0, 0, time.UTC),
		PrincipalAccounts:  []string{"111111111111"},
		Accounts:           []string{"111111111111", "222222222222"},
		CrossAccountEvents: 1,
	}
	if !reflect.DeepEqual(alice, want) {
		t.Errorf("got  %+v\nwant %+v", alice, want)
	}
	if !alice.CrossAccount() || sso.CrossAccount() {
		t.Errorf("cross-account flags: alice %v, sso %v", alice.CrossAccount(), sso.CrossAccount())
	}
	if sso.PermissionSet != "Admin" {
		t.Errorf("permission set %q, want Admin", sso.PermissionSet)
	}
}

func TestSortPrincipals(t *testing.T) {
	l := NewPrincipalLister(PrincipalOptions{})
	l.Add(testRows)
	s := l.Summaries()
	if err := SortPrincipals(s, SortPrincipalsByEvents); err != nil {
		t.Fatal(err)
	}
	if s[0].Events != 3 || s[1].Events != 2 {
		t.Errorf("by events: %d, %d first", s[0].Events, s[1].Events)
	}
	if err := SortPrincipals(s, SortPrincipalsByLastSeen); err != nil {
		t.Fatal(err)
	}
	if s[0].Kind != cloudtrail.KindSSORole {
		t.Errorf("by last seen: %s first", s[0].ARN)
	}
	if err := SortPrincipals(s, "size"); err == nil {
		t.Error("unknown order accepted")
	}
	if err := (PrincipalOptions{Kinds: []string{"robot"}}).Validate(); err == nil {
		t.Error("unknown kind accepted")
	}
}
