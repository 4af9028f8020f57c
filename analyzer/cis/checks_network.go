package cis

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
)

func networkChecks() []Check {
	return []Check{
		{ID: "ec2-nacl-no-world-admin-ports", Title: "Ensure no Network ACLs allow ingress from 0.0.0.0/0 or ::/0 to remote server administration ports (22, 3389)", Section: "Networking", Level: 1, Severity: Medium, eval: evalNACL,
			Guidance: "Considers 0.0.0.0/0 and ::/0; TCP and all protocols (v3.0.0: UDP too)."},
		{ID: "ec2-sg-no-world-ssh", Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to port 22", Section: "Networking", Level: 1, Severity: High, eval: evalWorldIngress,
			Guidance: "v1.2.0 4.1: considers ::/0 as well as 0.0.0.0/0."},
		{ID: "ec2-sg-no-world-rdp", Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to port 3389", Section: "Networking", Level: 1, Severity: High, eval: evalWorldIngress,
			Guidance: "v1.2.0 4.2: considers ::/0 as well as 0.0.0.0/0."},
		{ID: "ec2-sg-no-world-admin-ports-ipv4", Title: "Ensure no security groups allow ingress from 0.0.0.0/0 to remote server administration ports (22, 3389)", Section: "Networking", Level: 1, Severity: High, eval: evalWorldIngress},
		{ID: "ec2-sg-no-world-admin-ports-ipv6", Title: "Ensure no security groups allow ingress from ::/0 to remote server administration ports (22, 3389)", Section: "Networking", Level: 1, Severity: High, eval: evalWorldIngress},
		{ID: "ec2-default-sg-closed", Title: "Ensure the default security group of every VPC restricts all traffic", Section: "Networking", Level: 2, Severity: Medium, eval: evalDefaultSG},
		{ID: "ec2-vpc-peering-routes", Title: "Ensure routing tables for VPC peering are \"least access\"", Section: "Networking", Level: 2, Severity: Low, Manual: true,
			Guidance: "Review routes to peering connections: `aws ec2 describe-route-tables --filters Name=route.vpc-peering-connection-id,Values=<PCX_ID>`; each should cover only the subnets that must talk."},
		{ID: "ec2-imdsv2", Title: "Ensure that EC2 Metadata Service only allows IMDSv2", Section: "Networking", Level: 1, Severity: High, eval: evalIMDSv2,
			Guidance: "Running and stopped instances; terminated ones are ignored. An instance with the metadata endpoint disabled passes."},
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

// protoCovers reports whether an IP protocol ("-1", "tcp", "6", "udp",
// "17") is one the control counts.
func protoCovers(proto string, udp bool) bool {
	switch strings.ToLower(proto) {
	case "-1", "tcp", "6":
		return true
	case "udp", "17":
		return udp
	}
	return false
}

// openPorts lists the ports of ports the permission opens to each source
// of sources.
func openPorts(p IpPermission, ports []int32, sources []string, udp bool) (hits []portSource) {
	if !protoCovers(p.IpProtocol, udp) {
		return nil
	}
	var cidrs []string
	for _, x := range p.IpRanges {
		cidrs = append(cidrs, x.CidrIp)
	}
	for _, x := range p.Ipv6Ranges {
		cidrs = append(cidrs, x.CidrIpv6)
	}
	for _, src := range sources {
		if !slices.Contains(cidrs, src) {
			continue
		}
		for _, port := range ports {
			if p.IpProtocol == "-1" || p.FromPort == nil || p.ToPort == nil || *p.FromPort == -1 || (*p.FromPort <= port && port <= *p.ToPort) {
				hits = append(hits, portSource{port, src})
			}
		}
	}
	return hits
}

type portSource struct {
	port int32
	src  string
}

func portsText(ports []int32) string {
	var s []string
	for _, p := range ports {
		s = append(s, fmt.Sprint(p))
	}
	return strings.Join(s, " or ")
}

// evalWorldIngress fails each security group that opens one of the
// control's ports to one of its sources.
func evalWorldIngress(e *env) []Finding {
	ctl := e.ctl
	return e.eachSGRegion(func(r string, sgs []SecurityGroup) []Finding {
		var out []Finding
		for _, sg := range sgs {
			var rules []string
			var revoke []IpPermission
			for _, p := range sg.IpPermissions {
				hits := openPorts(p, ctl.Ports, ctl.Sources, ctl.UDP)
				if len(hits) == 0 {
					continue
				}
				srcs := map[string]bool{}
				for _, h := range hits {
					if !srcs[h.src] {
						srcs[h.src] = true
						rules = append(rules, fmt.Sprintf("%s %s from %s (covers port %d)", protoName(p.IpProtocol), portRange(p), h.src, h.port))
					}
				}
				q := IpPermission{IpProtocol: p.IpProtocol, FromPort: p.FromPort, ToPort: p.ToPort}
				for _, src := range ctl.Sources {
					if !srcs[src] {
						continue
					}
					if strings.Contains(src, ":") {
						q.Ipv6Ranges = append(q.Ipv6Ranges, struct {
							CidrIpv6 string `json:"CidrIpv6"`
						}{src})
					} else {
						q.IpRanges = append(q.IpRanges, struct {
							CidrIp string `json:"CidrIp"`
						}{src})
					}
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
			out = append(out, pass(r, e.regionARN(r), fmt.Sprintf("none of %d security groups opens %s to %s", len(sgs), portsText(ctl.Ports), strings.Join(ctl.Sources, " or "))))
		}
		return out
	})
}

// liveInstances runs fn for every instance of the region that is not
// terminated (or shutting down).
func (e *env) eachInstance(what string, fn func(r string, in *Instance) *Finding) []Finding {
	return e.perRegion(func(r string, rs *Region) []Finding {
		if rs.Instances == nil {
			return []Finding{notAssessable(r, e.regionARN(r), notRead(e.s, r, "ec2", "DescribeInstances", "the instances"))}
		}
		var out []Finding
		n := 0
		for _, res := range rs.Instances.Reservations {
			for i := range res.Instances {
				in := &res.Instances[i]
				if in.State != nil && (in.State.Name == "terminated" || in.State.Name == "shutting-down") {
					continue
				}
				n++
				if f := fn(r, in); f != nil {
					out = append(out, *f)
				}
			}
		}
		if len(out) == 0 {
			out = append(out, pass(r, e.regionARN(r), fmt.Sprintf("%d instances (terminated ones aside): %s", n, what)))
		}
		return out
	})
}

func (e *env) instanceARN(r, id string) string {
	return fmt.Sprintf("arn:%s:ec2:%s:%s:instance/%s", e.part, r, e.acct, id)
}

func instanceText(in *Instance) string {
	if n := in.Name(); n != "" {
		return in.InstanceId + " (" + n + ")"
	}
	return in.InstanceId
}

func evalIMDSv2(e *env) []Finding {
	return e.eachInstance("every one requires IMDSv2 tokens or has the metadata endpoint off", func(r string, in *Instance) *Finding {
		mo := in.MetadataOptions
		if mo != nil && (mo.HttpTokens == "required" || mo.HttpEndpoint == "disabled") {
			return nil
		}
		tokens := "not reported"
		if mo != nil {
			tokens = orPlaceholder(mo.HttpTokens, "not reported")
		}
		f := fail(r, e.instanceARN(r, in.InstanceId), fmt.Sprintf("%s: HttpTokens is %s, so IMDSv1 answers", instanceText(in), tokens),
			fmt.Sprintf("aws ec2 modify-instance-metadata-options --instance-id %s --http-tokens required --http-endpoint enabled --region %s", in.InstanceId, r))
		return &f
	})
}

func evalInstanceRoles(e *env) []Finding {
	return e.eachInstance("every one has an instance profile", func(r string, in *Instance) *Finding {
		if in.IamInstanceProfile != nil && in.IamInstanceProfile.Arn != "" {
			return nil
		}
		f := fail(r, e.instanceARN(r, in.InstanceId), instanceText(in)+" has no IAM instance profile: code on it calling AWS needs stored access keys",
			fmt.Sprintf("aws ec2 associate-iam-instance-profile --instance-id %s --iam-instance-profile Name=<INSTANCE_PROFILE> --region %s\n# then remove any access keys stored on the instance", in.InstanceId, r))
		return &f
	})
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
			protos := []string{"6"}
			if e.ctl.UDP {
				protos = append(protos, "17")
			}
			for _, port := range e.ctl.Ports {
				for _, src := range e.ctl.Sources {
					for _, proto := range protos {
						pname := map[string]string{"6": "tcp", "17": "udp"}[proto]
						for _, en := range entries {
							if en.Egress || (en.CidrBlock != src && en.Ipv6CidrBlock != src) {
								continue
							}
							if en.Protocol != "-1" && en.Protocol != proto {
								continue
							}
							if en.PortRange != nil && (port < en.PortRange.From || port > en.PortRange.To) {
								continue
							}
							if en.RuleAction != "allow" {
								break
							}
							open = append(open, fmt.Sprintf("rule %d allows %s port %d from %s", en.RuleNumber, pname, port, src))
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
								fixes = append(fixes, fmt.Sprintf("aws ec2 create-network-acl-entry --network-acl-id %s --ingress --rule-number %d --protocol %s --port-range From=%d,To=%d %s --rule-action deny --region %s", acl.NetworkAclId, n, pname, port, port, cidr, r))
							} else {
								fixes = append(fixes, fmt.Sprintf("# rule %d leaves no free number ahead of it: re-create it under a higher number <N>, delete it, then deny first\naws ec2 delete-network-acl-entry --network-acl-id %s --ingress --rule-number %d --region %s\naws ec2 create-network-acl-entry --network-acl-id %s --ingress --rule-number <LOWER_THAN_N> --protocol %s --port-range From=%d,To=%d %s --rule-action deny --region %s",
									en.RuleNumber, acl.NetworkAclId, en.RuleNumber, r, acl.NetworkAclId, pname, port, port, cidr, r))
							}
							break
						}
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
			out = append(out, pass(r, e.regionARN(r), fmt.Sprintf("none of %d network ACLs admits %s from %s", len(rs.NetworkAcls.NetworkAcls), portsText(e.ctl.Ports), strings.Join(e.ctl.Sources, " or "))))
		}
		return out
	})
}
