package store

import (
	"hash/maphash"
	"math/bits"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/columns"
)

// This file builds the usage rollup of one events file: the rows of a
// partition (a columns.Selection sorted by principal, as WriteTemp takes
// them) summed by facet and key (columns.RollupRow says which). A rollup
// row keeps a representative events row whose strings it writes, its sums,
// and its first and last time; the encoder (rollup_encode.go) writes the
// strings straight from the builder's columns.
//
// The work is a hash lookup or two a row, within one principal's run of
// rows at a time (rows are sorted by principal), so the tables stay small:
// the keys are the builder's interned values (equal values, equal keys) and
// hashes of the other strings, and a bucket's candidates are compared value
// by value, so two keys are never merged by a collision.

// Facet numbers, in columns.Facets order: the order of a file's sections.
const (
	facetCall = iota
	facetPrincipal
	facetOrigin
	facetAccessKey
	numFacets
)

// Outcome numbers, for the outcome column.
const (
	outcomeAllowed = iota
	outcomeDenied
	outcomeFailed
)

var outcomeNames = [...]string{cloudtrail.OutcomeAllowed, cloudtrail.OutcomeDenied, cloudtrail.OutcomeFailed}

// rollupRow is one row of the rollup being built.
type rollupRow struct {
	rep     int32 // the row (a position in the file's order) whose strings the row writes
	next    int32 // the next row in the same hash bucket, or -1
	facet   uint8
	outcome uint8
	// user is a call row's caller ARN without its session (b.users)
	user        int32
	calls, mfa  int64
	first, last int64
	// ha and hb hash the values the builder does not intern, for the
	// encoder's dictionaries: a call row's request parameters (ha); an
	// origin row's source IP (ha) and long-term key (hb); an access key
	// row's key (hb)
	ha, hb uint64
}

// userEntry is a caller's ARN without its session, and its hash.
type userEntry struct {
	arn  string
	hash uint64
}

// principalRun is one principal's rows: its first call row, and how many
// rows it has in each facet.
type principalRun struct {
	first int32
	n     [numFacets]int32
}

// rollupBuilder sums one partition's rows into rollup rows. It is reused
// from file to file (rollupBuilders).
type rollupBuilder struct {
	seed maphash.Seed
	rows []rollupRow
	// order lists the rows of each facet in the order they were made:
	// principals in the file's order, a principal's rows in the order of
	// their first event.
	order [numFacets][]int32
	heads idTable // one principal's keys: hash → first row of the bucket
	// runs are the principals in the file's order, with their rows in
	// each facet; own is rowGroups' scratch
	runs []principalRun
	own  []int32
	// idx are the builder rows in the file's order; bufs, times and mfa
	// hold the columns gathered in that order
	idx   []int32
	bufs  []columns.GatherBuf
	times []int64
	mfa   []bool

	// the builder's columns, indexed by builder row
	principal, kind, source, name, typ, category, region      columns.Strings
	recipient, account, errCode, userARN, request, errMessage columns.Strings
	sourceIP, userAgent, vpce, accessKey                      columns.Strings
	resARN, resType, resAccount                               columns.Strings
	sel                                                       columns.Selection

	// the last error code seen and its outcome
	lastErr     uint64
	lastOutcome uint8
	lastErrSet  bool
	// the last access key seen, by key, its hash, whether it is set and
	// whether it is a long-term key
	lastKey, lastKeyHash             uint64
	lastKeySet, lastKeyOK, lastKeyLT bool
	// the user identity ARNs seen, by key and by value: without their
	// sessions (userIDs and userVals hold their index in users)
	userIDs  map[uint64]int32
	userVals map[string]int32
	users    []userEntry
}

// build sums sel's rows (sorted by principal) into b.rows and b.order.
func (b *rollupBuilder) build(sel columns.Selection) {
	b.rows, b.runs = b.rows[:0], b.runs[:0]
	for f := range b.order {
		b.order[f] = b.order[f][:0]
	}
	if b.userIDs == nil {
		b.userIDs, b.userVals = map[uint64]int32{}, map[string]int32{}
		b.seed = maphash.MakeSeed()
	}
	clear(b.userIDs)
	clear(b.userVals)
	b.users = b.users[:0]
	b.sel = sel
	// The columns in the rows' order (sorted by principal): gathered in a
	// tight loop each, their items are then read in order, where reading
	// them through the builder's row numbers waited on memory at every
	// item. A rollup row's rep is a position in this order.
	b.idx = sel.Rows()
	n := 0
	col := func(name string) columns.Strings {
		if n == len(b.bufs) {
			b.bufs = append(b.bufs, columns.GatherBuf{})
		}
		c := sel.Strings(columns.Index(name)).Gather(b.idx, &b.bufs[n])
		n++
		return c
	}
	b.principal, b.kind = col(columns.PrincipalARN), col(columns.PrincipalKind)
	b.source, b.name, b.typ = col(columns.EventSource), col(columns.EventName), col(columns.EventType)
	b.category, b.region = col(columns.EventCategory), col(columns.AWSRegion)
	b.recipient, b.account = col(columns.RecipientAccount), col(columns.PrincipalAccount)
	b.errCode, b.userARN = col(columns.ErrorCode), col(columns.UserIdentityARN)
	b.request, b.errMessage = col(columns.RequestParameters), col(columns.ErrorMessage)
	b.sourceIP, b.userAgent = col(columns.SourceIP), col(columns.UserAgent)
	b.vpce, b.accessKey = col(columns.VPCEndpointID), col(columns.AccessKeyID)
	b.resARN = sel.ResourceField(columns.ResourceARN)
	b.resType = sel.ResourceField(columns.ResourceType)
	b.resAccount = sel.ResourceField(columns.ResourceAccount)
	b.lastErrSet, b.lastKeySet = false, false
	mfaCol := columns.Index(columns.MFAAuthenticated)
	b.times, b.mfa = b.times[:0], b.mfa[:0]
	for _, r := range b.idx {
		b.times = append(b.times, sel.Time(r))
		b.mfa = append(b.mfa, sel.Bool(mfaCol, r) == 1)
	}

	for a := 0; a < len(b.idx); {
		// One principal's run of rows: the principal column is interned,
		// so equal keys are equal principals.
		pk := b.principal.Key(int32(a))
		e := a + 1
		for e < len(b.idx) && b.principal.Key(int32(e)) == pk {
			e++
		}
		b.heads.reset()
		var from [numFacets]int
		for f := range from {
			from[f] = len(b.order[f])
		}
		callsFrom := from[facetCall]
		for k := a; k < e; k++ {
			if k%prefetchEvery == 0 {
				// The values hashed below lie all over the builder's
				// memory (in the order of the files): their loads are
				// started ahead, as plainStrings does.
				for _, c := range [...]*columns.Strings{&b.request, &b.userARN, &b.sourceIP, &b.accessKey} {
					c.Prefetch(k+prefetchAhead, k+prefetchAhead+prefetchEvery)
				}
			}
			r := int32(k)
			t := b.times[k]
			out := b.outcome(r)
			mfa := int64(0)
			if b.mfa[k] {
				mfa = 1
			}
			h, req, user := b.callHash(r, out)
			b.add(facetCall, r, out, h, t, mfa, req, 0, user)
			key, hasKey, longTerm := b.keyHash(r)
			lt := uint64(0)
			if longTerm {
				lt = key
			}
			h, ip := b.originHash(r, out, lt)
			b.add(facetOrigin, r, out, h, t, mfa, ip, lt, -1)
			if hasKey {
				h := mix(b.kind.Key(r), key, b.errCode.Key(r), facetAccessKey)
				b.add(facetAccessKey, r, out, h, t, mfa, 0, key, -1)
			}
		}
		// The principal rows sum the run's call rows by (kind, the
		// principal's account, the account called, outcome).
		for _, ci := range b.order[facetCall][callsFrom:] {
			c := b.rows[ci]
			r := c.rep
			h := mix(b.account.Key(r), b.recipient.Key(r), b.kind.Key(r), facetPrincipal<<8|uint64(c.outcome))
			pi := b.find(facetPrincipal, r, c.outcome, h)
			if pi < 0 {
				pi = b.newRow(facetPrincipal, r, c.outcome, h, c.first, 0, 0, -1)
			}
			p := &b.rows[pi]
			p.calls += c.calls
			p.first, p.last = min(p.first, c.first), max(p.last, c.last)
		}
		run := principalRun{first: b.order[facetCall][callsFrom]}
		for f := range from {
			run.n[f] = int32(len(b.order[f]) - from[f])
		}
		b.runs = append(b.runs, run)
		a = e
	}
}

// outcome classifies row r's error code, once for a run of equal codes.
func (b *rollupBuilder) outcome(r int32) uint8 {
	k := b.errCode.Key(r)
	if b.lastErrSet && k == b.lastErr {
		return b.lastOutcome
	}
	code, _ := b.errCode.Value(r)
	out := uint8(outcomeAllowed)
	switch cloudtrail.OutcomeOf(code) {
	case cloudtrail.OutcomeDenied:
		out = outcomeDenied
	case cloudtrail.OutcomeFailed:
		out = outcomeFailed
	}
	b.lastErr, b.lastOutcome, b.lastErrSet = k, out, true
	return out
}

// add counts row r (at time t) in the row of facet f it shares hash h and
// key with, making that row when it is the first.
// ha, hb and user are what the row keeps for the encoder (rollupRow).
func (b *rollupBuilder) add(f uint8, r int32, out uint8, h uint64, t, mfa int64, ha, hb uint64, user int32) {
	i := b.find(f, r, out, h)
	if i < 0 {
		i = b.newRow(f, r, out, h, t, ha, hb, user)
	}
	row := &b.rows[i]
	row.calls++
	row.mfa += mfa
	row.first, row.last = min(row.first, t), max(row.last, t)
}

func (b *rollupBuilder) newRow(f uint8, r int32, out uint8, h uint64, t int64, ha, hb uint64, user int32) int32 {
	i := int32(len(b.rows))
	next, ok := b.heads.get(h)
	if !ok {
		next = -1
	}
	b.rows = append(b.rows, rollupRow{rep: r, next: next, facet: f, outcome: out, first: t, last: t, ha: ha, hb: hb, user: user})
	b.heads.put(h, i)
	b.order[f] = append(b.order[f], i)
	return i
}

// find returns the row of facet f whose key row r shares, or -1.
func (b *rollupBuilder) find(f uint8, r int32, out uint8, h uint64) int32 {
	i, ok := b.heads.get(h)
	if !ok {
		return -1
	}
	for ; i >= 0; i = b.rows[i].next {
		row := &b.rows[i]
		if row.facet == f && row.outcome == out && b.sameKey(f, out, row.rep, r) {
			return i
		}
	}
	return -1
}

// sameKey reports whether rows x and y (of one principal and outcome) have
// the same key in facet f.
func (b *rollupBuilder) sameKey(f, out uint8, x, y int32) bool {
	if b.kind.Key(x) != b.kind.Key(y) {
		return false
	}
	switch f {
	case facetCall:
		return b.sameCall(out, x, y)
	case facetPrincipal:
		return b.account.Key(x) == b.account.Key(y) && b.recipient.Key(x) == b.recipient.Key(y)
	case facetOrigin:
		return b.userAgent.Key(x) == b.userAgent.Key(y) && b.vpce.Key(x) == b.vpce.Key(y) &&
			sameValue(b.sourceIP, x, y) && b.sameLongTermKey(x, y)
	case facetAccessKey:
		return b.errCode.Key(x) == b.errCode.Key(y) && sameValue(b.accessKey, x, y)
	}
	return false
}

// keyHash returns the hash of row r's access key, whether it has one, and
// whether it is a long-term key (AKIA…: the origin rows are kept per
// long-term key; a temporary key is one a session). A key repeats row
// after row (a session's rows share their identity's refs), so the last
// one is kept by key.
func (b *rollupBuilder) keyHash(r int32) (h uint64, ok, longTerm bool) {
	if k := b.accessKey.Key(r); !b.lastKeySet || k != b.lastKey {
		v, ok := b.accessKey.Value(r)
		b.lastKey, b.lastKeyHash, b.lastKeySet = k, maphash.String(b.seed, v), true
		b.lastKeyOK, b.lastKeyLT = ok, cloudtrail.IsLongTermKey(v)
	}
	return b.lastKeyHash, b.lastKeyOK, b.lastKeyLT
}

// sameLongTermKey reports whether rows x and y used the same long-term
// access key, or neither used one.
func (b *rollupBuilder) sameLongTermKey(x, y int32) bool {
	v, _ := b.accessKey.Value(x)
	w, _ := b.accessKey.Value(y)
	lx, ly := cloudtrail.IsLongTermKey(v), cloudtrail.IsLongTermKey(w)
	return lx == ly && (!lx || v == w)
}

// originHash hashes row r's origin key (its kind, long-term key's hash lt,
// source IP, user agent, VPC endpoint and outcome), and returns the hash
// of its source IP besides.
func (b *rollupBuilder) originHash(r int32, out uint8, lt uint64) (h, ip uint64) {
	v, _ := b.sourceIP.Value(r)
	ip = maphash.String(b.seed, v)
	h = mix(b.kind.Key(r), lt, ip, b.userAgent.Key(r))
	return mix(h, b.vpce.Key(r), uint64(out), facetOrigin), ip
}

// sameValue compares item x and y of a column that is not interned (equal
// keys still mean equal values).
func sameValue(s columns.Strings, x, y int32) bool {
	if s.Key(x) == s.Key(y) {
		return true
	}
	v, ok := s.Value(x)
	w, ok2 := s.Value(y)
	return ok == ok2 && v == w
}

// callHash hashes what makes row r's call: every field analyze's
// aggregator keys a call on (the kind besides), the error message only
// when the call was denied. It returns the hash of the request parameters
// and the caller's entry in b.users besides.
func (b *rollupBuilder) callHash(r int32, out uint8) (h, req uint64, user int32) {
	h = mix(b.kind.Key(r), b.source.Key(r), b.name.Key(r), b.typ.Key(r))
	h = mix(h, b.category.Key(r), b.region.Key(r), b.recipient.Key(r))
	h = mix(h, b.account.Key(r), b.errCode.Key(r), uint64(out))
	user = b.user(r)
	h = mix(h, b.users[user].hash, 1, 2)
	if v, ok := b.request.Value(r); ok {
		req = maphash.String(b.seed, v)
		h = mix(h, req, 3, 4)
	}
	if out == outcomeDenied {
		if v, ok := b.errMessage.Value(r); ok {
			h = mix(h, maphash.String(b.seed, v), 5, 6)
		}
	}
	if lo, hi, ok := b.sel.Resources(b.idx[r]); ok {
		for j := lo; j < hi; j++ {
			v, _ := b.resARN.Value(j)
			h = mix(h, maphash.String(b.seed, v), b.resType.Key(j), b.resAccount.Key(j))
		}
	}
	return h, req, user
}

// user returns row r's entry in b.users: its user identity ARN without its
// session name (cloudtrail.WithoutSession: the rollup keys calls on it),
// made once for each identity of the batch (a principal's rows often share
// their identity's refs; else the raw ARN is looked up).
func (b *rollupBuilder) user(r int32) int32 {
	k := b.userARN.Key(r)
	if i, ok := b.userIDs[k]; ok {
		return i
	}
	raw, _ := b.userARN.Value(r)
	i, ok := b.userVals[raw]
	if !ok {
		v := cloudtrail.WithoutSession(raw)
		i = int32(len(b.users))
		b.users = append(b.users, userEntry{arn: v, hash: maphash.String(b.seed, v)})
		b.userVals[raw] = i
	}
	b.userIDs[k] = i
	return i
}

// sameCall compares the call of rows x and y, of outcome out, field by
// field (the kinds are already equal).
func (b *rollupBuilder) sameCall(out uint8, x, y int32) bool {
	for _, s := range []*columns.Strings{&b.source, &b.name, &b.typ, &b.category, &b.region, &b.recipient, &b.account, &b.errCode} {
		if s.Key(x) != s.Key(y) {
			return false
		}
	}
	if !sameValue(b.request, x, y) {
		return false
	}
	if b.userARN.Key(x) != b.userARN.Key(y) && b.users[b.user(x)].arn != b.users[b.user(y)].arn {
		return false
	}
	if out == outcomeDenied && !sameValue(b.errMessage, x, y) {
		return false
	}
	// A null list and an empty one are the same call: neither names a
	// resource.
	xl, xh, _ := b.sel.Resources(b.idx[x])
	yl, yh, _ := b.sel.Resources(b.idx[y])
	if xh-xl != yh-yl {
		return false
	}
	for i := range xh - xl {
		if !sameValue(b.resARN, xl+i, yl+i) || b.resType.Key(xl+i) != b.resType.Key(yl+i) ||
			b.resAccount.Key(xl+i) != b.resAccount.Key(yl+i) {
			return false
		}
	}
	return true
}

// mix folds four words into a hash (a multiply-rotate mixer: keys are
// compared whole on a hit, so it need only spread them).
func mix(a, b, c, d uint64) uint64 {
	const m1, m2 = 0x9e3779b97f4a7c15, 0xc2b2ae3d27d4eb4f
	h := (a ^ bits.RotateLeft64(b*m1, 31)) * m2
	h = (h ^ bits.RotateLeft64(c*m2, 27)) * m1
	h = (h ^ bits.RotateLeft64(d*m1, 33)) * m2
	return h ^ h>>29
}
