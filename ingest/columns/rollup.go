package columns

import "github.com/iamlens/iamlens/ingest/store/schema"

// The usage rollup is the second table of the dataset, beside the events:
// ingest writes it from the same rows, in the same batch, one file for each
// events file (docs/rollup.md documents it for users). Every row sums the
// events of one partition file that share a key; which key depends on the
// row's facet:
//
//	call        principal, and every field that says which call it was
//	            (the fields the action mapper reads)
//	principal   principal, its account and the account called, outcome
//	origin      principal, long-term access key, source IP address, user
//	            agent, VPC endpoint, outcome
//	access_key  principal, access key ID, error code
//
// so that sums over the rows of one facet count every event once, and the
// rows of different facets must never be added together.

// Facets of the rollup, the values of its facet column.
const (
	FacetCall      = "call"
	FacetPrincipal = "principal"
	FacetOrigin    = "origin"
	FacetAccessKey = "access_key"
)

// Facets lists the facets in the order a rollup file holds them.
var Facets = []string{FacetCall, FacetPrincipal, FacetOrigin, FacetAccessKey}

// Column names of the rollup table that the events table does not have
// (the others share the events' names and meanings).
const (
	Facet     = "facet"
	Outcome   = "outcome"
	Calls     = "calls"
	MFACalls  = "mfa_calls"
	FirstSeen = "first_seen"
	LastSeen  = "last_seen"
)

// RollupVersion is the rollup's format: a store whose rollup was written
// under another version has it rebuilt from its events before it is read.
// Version 2 merged version 1's source_ip, user_agent and vpc_endpoint
// facets into origin, and made the footer's principal index one line per
// principal.
const RollupVersion = 2

// RollupRow is one row of the usage rollup (schema.RollupRow, its one
// declaration); RollupResource one element of its resources list.
type (
	RollupRow      = schema.RollupRow
	RollupResource = schema.RollupResource
)
