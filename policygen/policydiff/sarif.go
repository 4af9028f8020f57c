package policydiff

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// SARIF rules.
const (
	RuleUnused  = "iamlens/granted-unused"
	RuleMissing = "iamlens/missing-permission"
)

// The SARIF 2.1.0 log, as far as iamlens writes it. Every property the
// schema requires is here: a log's version and runs, a run's tool, a
// tool's driver, a driver's name, a rule's id, a result's message (text).
type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool    sarifTool     `json:"tool"`
	Results []sarifResult `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri"`
	Version        string      `json:"version"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string            `json:"id"`
	Name                 string            `json:"name"`
	ShortDescription     sarifText         `json:"shortDescription"`
	FullDescription      sarifText         `json:"fullDescription"`
	Help                 sarifText         `json:"help"`
	DefaultConfiguration map[string]string `json:"defaultConfiguration"`
	Properties           map[string]any    `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical     `json:"physicalLocation"`
	LogicalLocations []sarifLogicalLoc `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           sarifRegion   `json:"region"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogicalLoc struct {
	Name               string `json:"name,omitempty"`
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

// WriteSARIF writes one result per unused grant (RuleUnused; a note when
// only a conditional Allow grants it) and per missing permission
// (RuleMissing), located at the file of the policy that grants it (or of
// the source) and, for a Terraform plan, at the resource address.
func WriteSARIF(w io.Writer, rep *Report, o RenderOptions) error {
	version := o.Version
	if version == "" {
		version = "dev"
	}
	rules := []sarifRule{
		{ID: RuleUnused, Name: "GrantedButUnused",
			ShortDescription:     sarifText{"An action the identity policies grant and the CloudTrail window never saw"},
			FullDescription:      sarifText{"The principal's identity policies allow the action, and no authorised call of the window used it. Actions CloudTrail cannot show (iam:PassRole, data events the trail may not record) are never reported here."},
			Help:                 sarifText{"Remove the grant, or adopt the proposed policy of iamlens diff, which keeps what was used and never grants more than the current policies."},
			DefaultConfiguration: map[string]string{"level": "warning"},
			Properties:           map[string]any{"tags": []string{"security", "iam", "least-privilege"}, "security-severity": "4.0"}},
		{ID: RuleMissing, Name: "MissingPermission",
			ShortDescription:     sarifText{"A call of the window was denied and the policies do not grant it"},
			FullDescription:      sarifText{"The principal called the action, IAM denied it, and the identity policies do not allow it: a missing permission, or something to investigate."},
			Help:                 sarifText{"Grant the action if the principal needs it; otherwise find out why the principal tries it."},
			DefaultConfiguration: map[string]string{"level": "error"},
			Properties:           map[string]any{"tags": []string{"iam", "access-denied"}, "security-severity": "5.0"}},
	}
	results := []sarifResult{}
	for _, p := range rep.Principals {
		for _, g := range p.GrantedUnused {
			level := "warning"
			if g.Conditional {
				level = "note"
			}
			var pol *PolicyRef
			if g.policy >= 0 && g.policy < len(p.Policies) {
				pol = &p.Policies[g.policy]
			}
			msg := fmt.Sprintf("%s is granted %s", p.Principal, g.Action)
			if len(g.GrantedBy) > 0 {
				msg += " by " + g.GrantedBy[0]
			}
			if g.Conditional {
				msg += " (only under a condition)"
			}
			msg += fmt.Sprintf(" and did not use it between %s and %s (%d events)", day(p.From), endDay(p.To), p.Events)
			results = append(results, sarifResult{RuleID: RuleUnused, RuleIndex: 0, Level: level, Message: sarifText{msg},
				Locations:           []sarifLocation{location(rep, p, pol)},
				PartialFingerprints: map[string]string{"iamlensDiff/v1": fingerprint(RuleUnused, p.Principal, g.Action, "")},
				Properties:          map[string]any{"principal": p.Principal, "action": g.Action, "conditional": g.Conditional}})
		}
		for _, u := range p.UsedNotGranted {
			if u.Kind != KindMissing {
				continue
			}
			msg := fmt.Sprintf("%s was denied %s on %s (%d calls between %s and %s) and the policies do not grant it: %s",
				p.Principal, u.Action, u.Resource, u.Calls, day(u.FirstSeen), day(u.LastSeen), u.Reason)
			results = append(results, sarifResult{RuleID: RuleMissing, RuleIndex: 1, Level: "error", Message: sarifText{msg},
				Locations:           []sarifLocation{location(rep, p, nil)},
				PartialFingerprints: map[string]string{"iamlensDiff/v1": fingerprint(RuleMissing, p.Principal, u.Action, u.Resource)},
				Properties:          map[string]any{"principal": p.Principal, "action": u.Action, "resource": u.Resource}})
		}
	}
	log := sarifLog{Schema: "https://json.schemastore.org/sarif-2.1.0.json", Version: "2.1.0", Runs: []sarifRun{{
		Tool:    sarifTool{Driver: sarifDriver{Name: "iamlens", InformationURI: "https://github.com/iamlens/iamlens", Version: version, Rules: rules}},
		Results: results,
	}}}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(log)
}

func endDay(t time.Time) string {
	if t.IsZero() {
		return "the end of the dataset"
	}
	return day(t)
}

// location places a result: the policy's file (or the source's), its
// Terraform address or ARN, and the principal.
func location(rep *Report, p *Principal, pol *PolicyRef) sarifLocation {
	uri := rep.Source.File
	var logical []sarifLogicalLoc
	if pol != nil {
		if pol.File != "" {
			uri = pol.File
		}
		switch {
		case pol.Address != "":
			logical = append(logical, sarifLogicalLoc{Name: pol.Name, FullyQualifiedName: pol.Address, Kind: "resource"})
		case pol.ARN != "":
			logical = append(logical, sarifLogicalLoc{Name: pol.Name, FullyQualifiedName: pol.ARN, Kind: "resource"})
		}
	}
	if p.Address != "" {
		logical = append(logical, sarifLogicalLoc{FullyQualifiedName: p.Address, Kind: "resource"})
	}
	logical = append(logical, sarifLogicalLoc{FullyQualifiedName: p.Principal, Kind: "principal"})
	if uri == "" {
		uri = p.Principal
	}
	return sarifLocation{PhysicalLocation: sarifPhysical{ArtifactLocation: sarifArtifact{URI: uri}, Region: sarifRegion{StartLine: 1}}, LogicalLocations: logical}
}

func fingerprint(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))[:32]
}
