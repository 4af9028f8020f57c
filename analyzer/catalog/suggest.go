package catalog

import (
	"strings"

	"github.com/iamlens/iamlens/analyzer/suggest"
)

// Suggest names up to eight service prefixes or service:Action names that
// a name the catalogue does not hold was probably meant to be: a service
// for a bare prefix; an action of the service for service:Action; and for
// a mistyped prefix, the same action under the prefixes it resembles.
func (c *Catalog) Suggest(name string) []string {
	const max = 8
	lname := strings.ToLower(name)
	prefix, action, hasAction := strings.Cut(lname, ":")
	if !hasAction {
		return suggest.Closest(lname, c.Services(), max, nil)
	}
	svc, ok := c.Service(prefix)
	if !ok {
		var out []string
		for _, p := range suggest.Closest(prefix, c.Services(), len(c.Services()), nil) {
			if a, ok := c.Action(p + ":" + action); ok {
				out = append(out, a.FullName())
			}
			if len(out) == max {
				break
			}
		}
		return out
	}
	names := make([]string, len(svc.Actions))
	for i, a := range svc.Actions {
		names[i] = a.FullName()
	}
	return suggest.Closest(action, names, max, func(full string) string { return full[len(svc.Prefix)+1:] })
}
