package review

import (
	"net/netip"
	"sort"
	"strings"
	"time"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/analyzer/iamstate"
)

// Clues help find who owns what a finding is about.
type Clues struct {
	SourceIPs []Count `json:"source_ips,omitempty"`
	// Networks are the source addresses' /24 (IPv4) or /48 (IPv6)
	// networks.
	Networks   []Count `json:"networks,omitempty"`
	UserAgents []Count `json:"user_agents,omitempty"`
	// Tools name what the user agents are: Terraform, the AWS CLI, an SDK,
	// a CI system, the console.
	Tools        []string `json:"tools,omitempty"`
	VPCEndpoints []Count  `json:"vpc_endpoints,omitempty"`
	// CreatedBy is the CreateUser, CreateRole or CreateAccessKey call
	// that created it, when the dataset holds it.
	CreatedBy *Caller `json:"created_by,omitempty"`
	// Tags are the user's or role's IAM tags ("owner=alice").
	Tags []string `json:"tags,omitempty"`
	// LastHumanCaller is the last human-looking caller of an IAM call
	// naming the user or role (HumanLooking).
	LastHumanCaller *Caller `json:"last_human_caller,omitempty"`
}

// clues gathers the clues of a finding: the activity of the key ks (else of
// the principal ps), the creation of the key k (else of target), tags, and
// the last human touch of target ("user/NAME", "role/NAME").
func (rv *reviewer) clues(name, target string, tags []iamstate.Tag, ks, ps *Subject, k *iamstate.AccessKey) Clues {
	var c Clues
	s := ks
	if s == nil {
		s = ps
	}
	if s != nil {
		c.SourceIPs = s.SourceIPs
		c.Networks = networks(s.SourceIPs)
		c.UserAgents = s.UserAgents
		c.Tools = tools(s.UserAgents)
		c.VPCEndpoints = s.VPCEndpoints
	}
	for _, t := range tags {
		c.Tags = append(c.Tags, t.Key+"="+t.Value)
	}
	sort.Strings(c.Tags)
	if k != nil {
		// CloudTrail's CreateAccessKey names the user; the key is the one
		// created within two minutes of the call.
		if !k.Created.IsZero() {
			for _, cr := range rv.act.Creations {
				if cr.Target == "access-key/"+name && absDur(cr.At.Sub(k.Created)) <= 2*time.Minute {
					by := cr.By
					c.CreatedBy = &by
				}
			}
		}
	} else if target != "" {
		for _, cr := range rv.act.Creations {
			if cr.Target == target && !cr.At.After(rv.at) {
				by := cr.By
				c.CreatedBy = &by
			}
		}
	}
	if target != "" {
		if h, ok := rv.act.Touches[target]; ok && !h.At.After(rv.at) {
			c.LastHumanCaller = &h
		}
	}
	return c
}

func absDur(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// networks groups addresses into /24 (IPv4) and /48 (IPv6) networks; values
// that are not addresses (a service name, "AWS Internal") are left out.
func networks(ips []Count) []Count {
	m := map[string]int64{}
	for _, c := range ips {
		a, err := netip.ParseAddr(c.Value)
		if err != nil {
			continue
		}
		bits := 24
		if a.Is6() && !a.Is4In6() {
			bits = 48
		}
		p, err := a.Unmap().Prefix(bits)
		if err != nil {
			continue
		}
		m[p.String()] += c.Count
	}
	return analyzer.TopCounts(m, 0)
}

// toolMarks map a lower-cased user-agent fragment to the tool it names; the
// first match of each list wins, CI systems are looked for separately.
var toolMarks = []struct{ mark, name string }{
	{"terraform", "Terraform"},
	{"pulumi", "Pulumi"},
	{"aws-cdk", "AWS CDK"},
	{"cloudformation", "CloudFormation"},
	{"ansible", "Ansible"},
	{"aws-cli", "AWS CLI"},
	{"boto3", "Python SDK (boto3)"},
	{"botocore", "Python SDK (botocore)"},
	{"aws-sdk-go", "Go SDK"},
	{"aws-sdk-java", "Java SDK"},
	{"aws-sdk-js", "JavaScript SDK"},
	{"aws-sdk-nodejs", "JavaScript SDK"},
	{"aws-sdk-dotnet", ".NET SDK"},
	{"aws-sdk-ruby", "Ruby SDK"},
	{"aws-sdk-php", "PHP SDK"},
	{"aws-sdk-rust", "Rust SDK"},
	{"console.amazonaws.com", "AWS console"},
	{"console.aws.amazon.com", "AWS console"},
	{"mozilla/", "web browser"},
}

var ciMarks = []struct{ mark, name string }{
	{"github", "GitHub Actions"},
	{"gitlab", "GitLab CI"},
	{"jenkins", "Jenkins"},
	{"circleci", "CircleCI"},
	{"bitbucket", "Bitbucket Pipelines"},
	{"buildkite", "Buildkite"},
	{"codebuild", "AWS CodeBuild"},
	{"atlantis", "Atlantis"},
	{"spacelift", "Spacelift"},
	{"azure-pipelines", "Azure Pipelines"},
	{"teamcity", "TeamCity"},
}

// tools names the tools and CI systems the user agents show, sorted.
func tools(agents []Count) []string {
	set := map[string]bool{}
	for _, a := range agents {
		ua := strings.ToLower(a.Value)
		for _, m := range toolMarks {
			if strings.Contains(ua, m.mark) {
				set[m.name] = true
				break
			}
		}
		for _, m := range ciMarks {
			if strings.Contains(ua, m.mark) {
				set[m.name] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
