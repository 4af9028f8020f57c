package iamstate

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

func prowlerFiles(t *testing.T) []string {
	files := []string{testdata("prowler", "credential-report.csv")}
	if haveShared(t) {
		files = append(files, sharedOutputs(t, "credential-report", "prowler-test-credential-report.csv"))
	}
	return files
}

// TestCredentialReportProwler reads prowler's report (22 columns; test
// placeholders in some cells) as CSV, as base64 Content, and as the JSON
// of get-credential-report, and checks each typed row against the raw
// cells.
func TestCredentialReportProwler(t *testing.T) {
	for _, path := range prowlerFiles(t) {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(strings.NewReader(string(b))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		js, _ := json.Marshal(map[string]any{"Content": b, "ReportFormat": "text/csv", "GeneratedTime": "2026-11-01T00:00:00Z"})
		jsonOut, err := ReadCredentialReport(strings.NewReader(string(js)))
		if err != nil {
			t.Fatal(err)
		}
		csvOut, err := ReadCredentialReport(strings.NewReader("\xef\xbb\xbf" + string(b)))
		if err != nil {
			t.Fatal(err)
		}
		for name, out := range map[string]*CredentialReportOutput{"csv": csvOut, "content": {Content: b}, "json": jsonOut} {
			rep, err := out.Parse()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(rep.Rows) != len(recs)-1 || len(rep.Columns) != 22 || strings.Join(rep.Columns, ",") != strings.Join(CredentialReportColumns, ",") {
				t.Fatalf("%s: %d rows (want %d), columns %v", name, len(rep.Rows), len(recs)-1, rep.Columns)
			}
			if name == "json" && !rep.GeneratedTime.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) {
				t.Errorf("GeneratedTime %v", rep.GeneratedTime)
			}
			for i, r := range rep.Rows {
				rec := recs[i+1]
				if r.Line != i+2 || r.User != rec[0] || r.ARN != rec[1] || string(r.PasswordEnabled) != rec[3] || r.PasswordLastUsed.Raw != rec[4] ||
					string(r.MFAActive) != rec[7] || string(r.AccessKeys[0].Active) != rec[8] || r.AccessKeys[0].LastUsedDate.Raw != rec[10] ||
					string(r.AccessKeys[1].Active) != rec[13] || r.AccessKeys[1].LastUsedDate.Raw != rec[15] || r.Certs[1].LastRotated.Raw != rec[21] {
					t.Errorf("%s line %d: %+v, want %v", name, i+2, r, rec)
				}
				if r.Cell("cert_2_active") != rec[20] {
					t.Errorf("Cell(cert_2_active) %q", r.Cell("cert_2_active"))
				}
			}
			root := rep.Rows[0]
			if !root.IsRoot() || !root.AccessKeys[0].Active.On() || root.MFAActive.On() || root.PasswordLastUsed.Known() ||
				!root.PasswordLastUsed.Is(NoInformation) || !root.PasswordLastChanged.Is(NotSupported) || root.UserCreationTime.Time.Year() != 2022 {
				t.Errorf("root: %+v", root)
			}
			// Three placeholder cells ({password_last_used},
			// {access_key_1_last_used}, {access_key_2_last_used}) are
			// problems, read as unknown.
			if len(rep.Problems) != 3 || !strings.Contains(rep.Problems[0].String(), `credential report line 3 (<root_account>): password_last_used "{password_last_used}"`) {
				t.Errorf("%s problems: %v", name, rep.Problems)
			}
		}
	}
}

// TestCredentialReportMarkers: the markers, a stamp in each time form, a
// row shorter than the header, and the failures.
func TestCredentialReportMarkers(t *testing.T) {
	in := strings.Join(CredentialReportColumns, ",") + "\n" +
		"bob,arn:aws:iam::111122223333:user/ops/bob,2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-02-01 10:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"carol,arn:aws:iam::111122223333:user/carol,2024-01-01T00:00:00Z,maybe\n"
	rep, err := ParseCredentialReportCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	bob := rep.Rows[0]
	k := bob.AccessKeys[0]
	if !k.Exists() || !k.LastRotated.Known() || k.LastRotated.Time.Hour() != 10 || !k.LastUsedDate.Is(NA) || k.LastUsedDate.Known() || k.LastUsedRegion != "" || bob.AccessKeys[1].Exists() {
		t.Errorf("bob's key 1: %+v", k)
	}
	if fmt := k.LastUsedDate.String(); fmt != "N/A" {
		t.Errorf("String %q", fmt)
	}
	carol := rep.Rows[1]
	if carol.PasswordLastUsed.Raw != "" || carol.PasswordLastUsed.Known() || carol.PasswordEnabled.On() {
		t.Errorf("carol (short row): %+v", carol)
	}
	if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0].Message, `password_enabled "maybe"`) {
		t.Errorf("problems %v", rep.Problems)
	}
	for _, bad := range []string{"", "name,arn\nx,y\n", "user,arn\n\"unterminated\n"} {
		if _, err := ParseCredentialReportCSV(strings.NewReader(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if _, err := ReadCredentialReport(strings.NewReader("<html>")); err == nil {
		t.Error("html read as a report")
	}
	if _, err := (&CredentialReportOutput{}).Parse(); err == nil || err.Error() != "credential report: empty" {
		t.Errorf("empty: %v", err)
	}
}

// TestCredentialReportAWSCLIExample: the CLI documentation's
// get-credential-report output has no Content: its time is read, and
// Parse says the report is empty.
func TestCredentialReportAWSCLIExample(t *testing.T) {
	f, err := os.Open(testdata("aws-cli", "iam.get-credential-report.output1.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out, err := ReadCredentialReport(f)
	if err != nil {
		t.Fatal(err)
	}
	if out.GeneratedTime.Format(time.RFC3339) != "2015-06-17T19:11:50Z" || out.ReportFormat != "text/csv" {
		t.Errorf("got %+v", out)
	}
	if _, err := out.Parse(); err == nil {
		t.Error("a report without content parsed")
	}
	a := Build(&Input{Outputs: Outputs{CredentialReport: out}})
	if a.Read.CredentialReport || len(a.Problems) != 1 || a.Problems[0].Source != SourceCredentialReport {
		t.Errorf("read %+v problems %v", a.Read, a.Problems)
	}
}

// TestTimeForms: every form AWS outputs use, and the marshalled form.
func TestTimeForms(t *testing.T) {
	want := time.Date(2016, 1, 28, 23, 2, 24, 0, time.UTC)
	for _, in := range []string{`"2016-01-28T23:02:24Z"`, `"2016-01-28 23:02:24+00:00"`, `"2016-01-29T00:02:24+01:00"`, `"2016-01-28T23:02:24+0000"`, `1454022144`} {
		var got Time
		if err := json.Unmarshal([]byte(in), &got); err != nil || !got.Equal(want) {
			t.Errorf("%s: got %v, %v", in, got, err)
		}
	}
	var zero Time
	if err := json.Unmarshal([]byte(`null`), &zero); err != nil || !zero.IsZero() {
		t.Errorf("null: %v %v", zero, err)
	}
	if b, _ := json.Marshal(zero); string(b) != "null" {
		t.Errorf("zero marshals to %s", b)
	}
	if b, _ := json.Marshal(Time{Time: want.In(time.FixedZone("x", 3600))}); string(b) != `"2016-01-28T23:02:24Z"` {
		t.Errorf("marshal %s", b)
	}
	if _, err := ParseTime("yesterday"); err == nil {
		t.Error("yesterday parsed")
	}
}
