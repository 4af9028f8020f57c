package cis

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

func networkChecks() []Check {
	return []Check{
		{ID: "ec2-nacl-no-world-admin-ports", Title: "Ensure no Network ACLs allow ingress from 0.0.0.0/0 or ::/0 to remote server administration ports (22, 3389)", Section: "Networking", Level: 1, Severity: Medium,
			Controls: map[Benchmark]string{V140: "5.1", V150: "5.1", V300: "5.1"}, eval: evalNACL},
		{ID: "ec2-sg-no-world-admin-ports-ipv4", Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports (22, 3389)", Section: "Networking", Level: 1, Severity: High,
			Controls: map[Benchmark]string{V120: "4.1, 4.2", V140: "5.2", V150: "5.2", V300: "5.2"}, eval: evalWorldAdmin(false)},
		{ID: "ec2-sg-no-world-admin-ports-ipv6", Title: "Ensure no security groups allow ingress from ::/0 to remote server administration ports (22, 3389)", Section: "Networking", Level: 1, Severity: High,
			Controls: map[Benchmark]string{V150: "5.3", V300: "5.3"}, eval: evalWorldAdmin(true)},
		{ID: "ec2-default-sg-closed", Title: "Ensure the default security group of every VPC restricts all traffic", Section: "Networking", Level: 2, Severity: Medium,
			Controls: map[Benchmark]string{V120: "4.3", V140: "5.3", V150: "5.4", V300: "5.4"}, eval: evalDefaultSG},
		{ID: "ec2-vpc-peering-routes", Title: "Ensure routing tables for VPC peering are \"least access\"", Section: "Networking", Level: 2, Severity: Low, Manual: true,
			Controls: map[Benchmark]string{V120: "4.4", V140: "5.4", V150: "5.5", V300: "5.5"},
			Guidance: "Review routes to peering connections: `aws ec2 describe-route-tables --filters Name=route.vpc-peering-connection-id,Values=<PCX_ID>`; each should cover only the subnets that must talk."},
	}
}

func (e *env) sgARN(region, id string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:security-group/%s", e.part, region, e.acct, id)
}

func (e *env) eachSGRegion(fn func(r string, sgs []SecurityGroup) []Finding) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		if rs.SecurityGroups == nil {
			return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "ec2", "DescribeSecurityGroups", "the security groups"))}
		}
		return fn(r, rs.SecurityGroups.SecurityGroups)
	})
}

// openAdminPort reports the first admin port (22, 3389) the permission
// opens to the world, or 0.
func openAdminPort(p IpPermission, ipv6 bool) int {
	world := false
	if ipv6 {
		for _, x := range p.Ipv6Ranges {
			world = world || x.CidrIpv6 == "::/0"
		}
	} else {
		for _, x := range p.IpRanges {
			world = world || x.CidrIp == "0.0.0.0/0"
		}
	}
	if !world {
		return 0
	}
	proto := strings.ToLower(p.IpProtocol)
	if proto != "-1" && proto != "tcp" && proto != "6" {
		return 0
	}
	for _, port := range []int32{22, 3389} {
		if proto == "-1" || p.FromPort == nil || p.ToPort == nil || (*p.FromPort == -1) || (*p.FromPort <= port && port <= *p.ToPort) {
			return int(port)
		}
	}
	return 0
}

func evalWorldAdmin(ipv6 bool) func(*env) []Finding {
	cidr := "0.0.0.0/0"
	if ipv6 {
		cidr = "::/0"
	}
	return func(e *env) []Finding {
		return e.eachSGRegion(func(r string, sgs []SecurityGroup) []Finding {
			var out []Finding
			for _, sg := range sgs {
				var rules []string
				var revoke []IpPermission
				for _, p := range sg.IpPermissions {
					port := openAdminPort(p, ipv6)
					if port == 0 {
						continue
					}
					rules = append(rules, fmt.Sprintf("%s %s from %s (covers port %d)", protoName(p.IpProtocol), portRange(p), cidr, port))
					q := IpPermission{IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort}
					if ipv6 {
						q.Ipv6Ranges = append(q.Ipv6Ranges, struct {
							CidrIpv6 string `json:"CidrIpv6"`
						}{cidr})
					} else {
						q.IpRanges = append(q.IpRanges, struct {
							CidrIp string `json:"CidrIp"`
						}{cidr})
					}
					revoke = append(revoke, q)
				}
				if len(rules) == 0 {
					continue
				}
				js, _ := json.Marshal(revoke)
				out = append(out, fail(r, e.sgARN(r, sg.GroupId), fmt.Sprintf("%s (%s) allows %s", sg.GroupId, sg.GroupName, strings.Join(rules, "; ")),
					fmt.Sprintf("aws ec2 revoke-security-group-ingress --group-id %s --ip-permissions '%s' --region %s\n# then allow only your admin network or use SSM Session Manager", sg.GroupId, js, r)))
			}
			if len(out) == 0 {
				out = append(out, pass(r, e.regionARN(r), fmt.Sprintf("none of %d security groups opens 22 or 3389 to %s", len(sgs), cidr)))
			}
			return out
		})
	}
}

func protoName(p string) string {
	switch p {
	case "-1":
		return "all protocols"
	case "6":
		return "tcp"
	}
	return p
}

func portRange(p IpPermission) string {
	if p.FromPort == nil || p.ToPort == nil || *p.FromPort == -1 {
		return "all ports"
	}
	if *p.FromPort == *p.ToPort {
		return fmt.Sprintf("port %d", *p.FromPort)
	}
	return fmt.Sprintf("ports %d-%d", *p.FromPort, *p.ToPort)
}

func evalDefaultSG(e *env) []Finding {
	return e.eachSGRegion(func(r string, sgs []SecurityGroup) []Finding {
		var out []Finding
		for _, sg := range sgs {
			if sg.GroupName != "default" {
				continue
			}
			arn := e.sgARN(r, sg.GroupId)
			if len(sg.IpPermissions) == 0 && len(sg.IpPermissionsEgress) == 0 {
				out = append(out, pass(r, arn, fmt.Sprintf("default security group of %s has no rules", sg.VpcId)))
				continue
			}
			var fix []string
			if len(sg.IpPermissions) > 0 {
				js, _ := json.Marshal(sg.IpPermissions)
				fix = append(fix, fmt.Sprintf("aws ec2 revoke-security-group-ingress --group-id %s --ip-permissions '%s' --region %s", sg.GroupId, js, r))
			}
			if len(sg.IpPermissionsEgress) > 0 {
				js, _ := json.Marshal(sg.IpPermissionsEgress)
				fix = append(fix, fmt.Sprintf("aws ec2 revoke-security-group-egress --group-id %s --ip-permissions '%s' --region %s", sg.GroupId, js, r))
			}
			out = append(out, fail(r, arn, fmt.Sprintf("default security group of %s has %d inbound and %d outbound rules", sg.VpcId, len(sg.IpPermissions), len(sg.IpPermissionsEgress)),
				"# move the instances using it to their own groups first\n"+strings.Join(fix, "\n")))
		}
		if len(out) == 0 {
			out = append(out, pass(r, e.regionARN(r), "no default security group"))
		}
		return out
	})
}

// evalNACL walks each NACL's inbound entries in rule order, as AWS does,
// for traffic from anywhere (entries whose source is 0.0.0.0/0 or ::/0):
// the first entry that covers port 22 or 3389 decides.
func evalNACL(e *env) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		if rs.NetworkAcls == nil {
			return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "ec2", "DescribeNetworkAcls", "the network ACLs"))}
		}
		var out []Finding
		for _, acl := range rs.NetworkAcls.NetworkAcls {
			entries := acl.Entries
			sort.Slice(entries, func(i, j int) bool { return entries[i].RuleNumber < entries[j].RuleNumber })
			used := map[int]bool{}
			for _, en := range entries {
				if !en.Egress {
					used[en.RuleNumber] = true
				}
			}
			var open []string
			var fixes []string
			for _, port := range []int32{22, 3389} {
				for _, src := range []string{"0.0.0.0/0", "::/0"} {
					for _, en := range entries {
						if en.Egress || (en.CidrBlock != src && en.Ipv6CidrBlock != src) {
							continue
						}
						if en.Protocol != "-1" && en.Protocol != "6" {
							continue
						}
						if en.PortRange != nil && (port < en.PortRange.From || port > en.PortRange.To) {
							continue
						}
						if en.RuleAction != "allow" {
							break
						}
						open = append(open, fmt.Sprintf("rule %d allows port %d from %s", en.RuleNumber, port, src))
						n := en.RuleNumber - 1
						for n > 0 && used[n] {
							n--
						}
						cidr := "--cidr-block " + src
						if src == "::/0" {
							cidr = "--ipv6-cidr-block ::/0"
						}
						if n > 0 {
							used[n] = true
							fixes = append(fixes, fmt.Sprintf("aws ec2 create-network-acl-entry --network-acl-id %s --ingress --rule-number %d --protocol tcp --port-range From=%d,To=%d %s --rule-action deny --region %s", acl.NetworkAclId, n, port, port, cidr, r))
						} else {
							fixes = append(fixes, fmt.Sprintf("# rule %d leaves no free number ahead of it: re-create it under a higher number <N>, delete it, then deny first\naws ec2 delete-network-acl-entry --network-acl-id %s --ingress --rule-number %d --region %s\naws ec2 create-network-acl-entry --network-acl-id %s --ingress --rule-number <LOWER_THAN_N> --protocol tcp --port-range From=%d,To=%d %s --rule-action deny --region %s",
								en.RuleNumber, acl.NetworkAclId, en.RuleNumber, r, acl.NetworkAclId, port, port, cidr, r))
						}
						break
					}
				}
			}
			arn := fmt.Sprintf("arn:%s:ec2:%s:%s:network-acl/%s", e.part, r, e.acct, acl.NetworkAclId)
			if len(open) > 0 {
				out = append(out, fail(r, arn, fmt.Sprintf("%s (%s): %s", acl.NetworkAclId, acl.VpcId, strings.Join(open, "; ")),
					"# deny the admin ports from anywhere ahead of the allow rule (allow your admin network in a lower-numbered rule if needed)\n"+strings.Join(fixes, "\n")))
			}
		}
		if len(out) == 0 {
			out = append(out, pass(r, e.regionARN(r), fmt.Sprintf("none of %d network ACLs admits 22 or 3389 from anywhere", len(rs.NetworkAcls.NetworkAcls))))
		}
		return out
	})
}
