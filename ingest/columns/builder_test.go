package columns

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v15/arrow"
	"github.com/apache/arrow/go/v15/arrow/array"
	"github.com/apache/arrow/go/v15/arrow/memory"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/tidwall/gjson"

	"github.com/iamlens/iamlens/ingest/cloudtrail"
	"github.com/iamlens/iamlens/ingest/ingesttest"
)

// logFile builds a log file whose records vary in every way the builder
// treats differently: nulls, non-string values, resources present, empty
// or absent, one identity block seen in two partitions, an AWS service.
func logFile() []byte {
	user := `{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333","accessKeyId":"AKIAEXAMPLE","principalId":"AIDAEXAMPLE"}`
	root := `{"type":"Root","principalId":"111122223333","accountId":"111122223333"}`
	recs := []string{
		fmt.Sprintf(`{"eventID":"e0","eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","userIdentity":%s,"recipientAccountId":"111122223333","readOnly":true,"resources":[{"ARN":"arn:aws:s3:::b/k","type":"AWS::S3::Object"},{"accountId":"111122223333","type":"AWS::S3::Bucket","ARN":"arn:aws:s3:::b"}],"requestParameters":{"bucketName":"b","key":"k"},"tlsDetails":{"tlsVersion":"TLSv1.3"}}`, user),
		fmt.Sprintf(`{"eventID":"e1","eventTime":"2024-01-02T03:04:06Z","eventSource":"ec2.amazonaws.com","eventName":"DescribeInstances","awsRegion":"cn-north-1","userIdentity":%s,"recipientAccountId":"111122223333","errorCode":"AccessDenied","errorMessage":"no","requestParameters":null,"resources":[],"readOnly":"false"}`, root),
		fmt.Sprintf(`{"eventID":"e2","eventTime":"2024-01-02T03:04:07Z","eventSource":"ec2.amazonaws.com","eventName":"RunInstances","awsRegion":"us-east-1","userIdentity":%s,"recipientAccountId":"999988887777","sourceIPAddress":12345,"managementEvent":false}`, root),
		`{"eventID":"e3","eventTime":"2024-01-02T03:04:08Z","eventSource":"kms.amazonaws.com","eventName":"Decrypt","eventType":"AwsServiceEvent","awsRegion":"us-east-1","userIdentity":{"accountId":"111122223333","invokedBy":"kms.amazonaws.com"},"sharedEventID":"s1"}`,
		`{"eventID":"e4","eventTime":"2024-01-02T03:04:09Z","eventSource":"sts.amazonaws.com","eventName":"GetCallerIdentity","awsRegion":"us-east-1","eventType":"AwsServiceEvent"}`,
		`{"eventTime":"2024-01-02T03:04:10Z"}`,
		`{"eventID":"e6","eventTime":"redacted"}`,
		`"not an object"`,
	}
	s := `{"Records":[`
	for i, r := range recs {
		if i > 0 {
			s += ","
		}
		s += r
	}
	return []byte(s + `]}`)
}

// fromGJSON builds the same rows the slow way: Append over gjson values.
func fromGJSON(t *testing.T, mem memory.Allocator, data []byte) arrow.Record {
	b := NewBuilder(mem)
	for _, r := range gjson.GetBytes(data, "Records").Array() {
		_, _ = b.Append(r, "src")
	}
	return b.NewRecord()
}

func TestAppendSpansTakeAgreesWithGJSON(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	data := logFile()
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	n, err := sp.Split(data)
	if err != nil || n != 8 {
		t.Fatalf("split: %d %v", n, err)
	}
	b := NewBuilder(mem)
	// Two passes: the second runs on reset buffers and a warm identity cache.
	for pass := 0; pass < 2; pass++ {
		var rejected []string
		for i := 0; i < n; i++ {
			if _, err := b.AppendSpans(data, sp.Record(i), sp.Values(i), "src"); err != nil {
				rejected = append(rejected, err.Error())
			}
		}
		if len(rejected) != 3 || b.Len() != 5 {
			t.Fatalf("pass %d: %d rows, rejected %v", pass, b.Len(), rejected)
		}
		if got := b.PrincipalARN(0); got != "arn:aws:iam::111122223333:user/alice" {
			t.Fatalf("principal of row 0: %q", got)
		}
		// Take in reverse order and compare with the gjson path, row by row.
		idx := []int32{4, 3, 2, 1, 0}
		got := b.Take(idx)
		want := fromGJSON(t, mem, data)
		if got.NumRows() != 5 || want.NumRows() != 5 {
			t.Fatalf("rows: %d vs %d", got.NumRows(), want.NumRows())
		}
		for c := 0; c < int(got.NumCols()); c++ {
			for k, i := range idx {
				g := got.Column(c).ValueStr(k)
				w := want.Column(c).ValueStr(int(i))
				if g != w || got.Column(c).IsNull(k) != want.Column(c).IsNull(int(i)) {
					t.Errorf("pass %d column %s row %d: %q, want %q", pass, Schema.Field(c).Name, i, g, w)
				}
			}
		}
		// The root user seen in cn-north-1 and us-east-1 gets each partition's ARN.
		p := got.Column(Index(PrincipalARN)).(*array.String)
		if p.Value(3) != "arn:aws-cn:iam::111122223333:root" || p.Value(2) != "arn:aws:iam::111122223333:root" {
			t.Errorf("root ARNs by partition: %q %q", p.Value(3), p.Value(2))
		}
		// Service events resolve from their event source, not a cached block.
		if p.Value(0) != "sts.amazonaws.com" || p.Value(1) != "kms.amazonaws.com" {
			t.Errorf("service principals: %q %q", p.Value(0), p.Value(1))
		}
		// A Selection reads the same rows column by column, and
		// SelectEvents rebuilds them from Event values.
		all := b.Events(idx, nil)
		sel := b.Select(idx)
		for k, i := range idx {
			if v, ok := sel.Strings(colEventName).Value(i); v != all[k].EventName || ok != (all[k].EventName != "") {
				t.Errorf("pass %d: row %d event_name %q %v, want %q", pass, k, v, ok, all[k].EventName)
			}
		}
		again := SelectEvents(all)
		if again.Len() != len(all) || !reflect.DeepEqual(again.b.Events(again.Rows(), nil), all) {
			t.Errorf("pass %d: SelectEvents does not give back the rows", pass)
		}
		for k, i := range idx {
			if sel.PrincipalARN(k) != b.PrincipalARN(int(i)) || all[k].PrincipalARN != b.PrincipalARN(int(i)) {
				t.Errorf("pass %d: selection row %d principal %q, want %q", pass, k, sel.PrincipalARN(k), b.PrincipalARN(int(i)))
			}
		}
		got.Release()
		want.Release()
		b.Reset()
		if b.Len() != 0 || b.DataBytes() != 0 {
			t.Fatalf("after Reset: %d rows", b.Len())
		}
	}
}

// The identity cells are in identityCols' order; the row's account falls
// back to the principal_account cell by its index.
func TestCellPrincipalAccount(t *testing.T) {
	if identityCols[cellPrincipalAccount] != colPrincipalAccount {
		t.Fatalf("identityCols[%d] is column %d, not principal_account (%d)", cellPrincipalAccount, identityCols[cellPrincipalAccount], colPrincipalAccount)
	}
}

// The identity cache keeps its own copy of every string: the reader reuses
// its file buffer, and a later record with the same block takes its
// identity columns from the cache.
func TestIdentityCacheOwnsItsStrings(t *testing.T) {
	const rec = `{"Records":[{"eventID":"e%d","eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333",` +
		`"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/s1","principalId":"AROAEXAMPLE:s1","accessKeyId":"ASIAEXAMPLE","accountId":"111122223333",` +
		`"invokedBy":"cloudformation.amazonaws.com","sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333"},"attributes":{"mfaAuthenticated":"true"}}}}]}`
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	for i := range 2 {
		data := []byte(fmt.Sprintf(rec, i))
		n, err := sp.Split(data)
		if err != nil || n != 1 {
			t.Fatal(n, err)
		}
		if _, err := b.AppendSpans(data, sp.Record(0), sp.Values(0), "f"); err != nil {
			t.Fatal(err)
		}
		for k := range data {
			data[k] = 'x' // the reader reuses its buffer for the next file
		}
	}
	cached := 0
	for _, set := range b.ids.sets {
		for _, w := range set.ws {
			if w != nil {
				cached++
			}
		}
	}
	if cached != 1 {
		t.Fatalf("%d identities cached, want 1", cached)
	}
	want := map[int]string{colIdentityType: "AssumedRole", colPrincipalARN: "arn:aws:iam::111122223333:role/app",
		colUserIdentityARN: "arn:aws:sts::111122223333:assumed-role/app/s1", colPrincipalID: "AROAEXAMPLE:s1",
		colSessionName: "s1", colPrincipalAccount: "111122223333", colAccessKeyID: "ASIAEXAMPLE", colInvokedBy: "cloudformation.amazonaws.com"}
	for row := range 2 {
		for col, w := range want {
			if got := b.str[col].value(row); got != w {
				t.Errorf("row %d %s: %q, want %q", row, Schema.Field(col).Name, got, w)
			}
		}
		if b.bools[colMFA][row] != 1 {
			t.Errorf("row %d: mfa %d", row, b.bools[colMFA][row])
		}
	}
}

// The builder interns exactly the columns the store dictionary-encodes,
// which parquet-go reads from Event's tags.
func TestInternedColumnsAreTheDictionaryColumns(t *testing.T) {
	want := map[string]bool{}
	for _, path := range parquet.SchemaOf(Event{}).Columns() {
		leaf, _ := parquet.SchemaOf(Event{}).Lookup(path...)
		if enc := leaf.Node.Encoding(); enc != nil && enc.Encoding() == format.RLEDictionary {
			name := path[0]
			if len(path) > 1 {
				name += "." + path[len(path)-1] // resources.list.element.type
			}
			want[name] = true
		}
	}
	if len(want) < 10 || !reflect.DeepEqual(dictColumns(), want) {
		t.Fatalf("interned %v, dictionary-encoded %v", dictColumns(), want)
	}
	b := NewBuilder(memory.DefaultAllocator)
	for i, f := range Schema.Fields() {
		if c := b.str[i]; c != nil && (c.intern != nil) != want[f.Name] {
			t.Errorf("%s: interned %v", f.Name, c.intern != nil)
		}
	}
	if b.res.typ.intern == nil || b.res.accnt.intern == nil || b.res.arn.intern != nil {
		t.Error("resources: type and account_id are interned, arn is not")
	}
}

// Equal values of an interned column share one ref and are stored once;
// rows of one identity share its cells' refs; a plain column stores each
// value. A new batch never reuses the last one's refs, whatever its order.
func TestInterning(t *testing.T) {
	rec := func(id, source, user string) string {
		return fmt.Sprintf(`{"eventID":"%s","eventTime":"2024-01-02T03:04:05Z","eventSource":"%s","awsRegion":"us-east-1","recipientAccountId":"111122223333",`+
			`"userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::111122223333:assumed-role/app/%s","principalId":"AROAEXAMPLE:%[3]s","accountId":"111122223333",`+
			`"sessionContext":{"sessionIssuer":{"type":"Role","arn":"arn:aws:iam::111122223333:role/app","accountId":"111122223333"}}}}`, id, source, user)
	}
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	appendAll := func(recs ...string) {
		t.Helper()
		appendRecords(t, b, &sp, recs)
	}
	appendAll(rec("e0", "s3.amazonaws.com", "alice"), rec("e1", "ec2.amazonaws.com", "bob"),
		rec("e2", "s3.amazonaws.com", "alice"), rec("e3", "ec2.amazonaws.com", "alice"))
	src, sess, ids := b.str[colEventSource], b.str[colSessionName], b.str[colEventID]
	if src.refs[0] != src.refs[2] || src.refs[1] != src.refs[3] || src.refs[0] == src.refs[1] {
		t.Errorf("event_source refs %v: equal values must share one", src.refs)
	}
	if got := string(src.data); got != "s3.amazonaws.comec2.amazonaws.com" {
		t.Errorf("event_source stored %q", got)
	}
	if sess.refs[0] != sess.refs[2] || sess.refs[0] != sess.refs[3] || string(sess.data) != "alicebob" {
		t.Errorf("session_name refs %v, bytes %q: alice's rows must share her cells", sess.refs, sess.data)
	}
	if string(ids.data) != "e0e1e2e3" {
		t.Errorf("event_id stored %q", ids.data)
	}
	// The next batch meets alice after a longer value: her cached cells
	// must be stored anew, not read at the last batch's offsets.
	b.Reset()
	appendAll(rec("e4", "organizations.amazonaws.com", "a-much-longer-session"), rec("e5", "s3.amazonaws.com", "alice"))
	for col, want := range map[int][2]string{
		colEventSource:     {"organizations.amazonaws.com", "s3.amazonaws.com"},
		colSessionName:     {"a-much-longer-session", "alice"},
		colUserIdentityARN: {"arn:aws:sts::111122223333:assumed-role/app/a-much-longer-session", "arn:aws:sts::111122223333:assumed-role/app/alice"},
		colEventID:         {"e4", "e5"},
	} {
		for row, w := range want {
			if got := b.str[col].value(row); got != w {
				t.Errorf("second batch row %d %s: %q, want %q", row, Schema.Field(col).Name, got, w)
			}
		}
	}
}

// TestKeys: in an interned column, two items have the same Key exactly
// when they have the same value (nulls aside), over every record of the
// real logs, gathered or not; the encoder's dictionary relies on it.
func TestKeys(t *testing.T) {
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	for _, data := range ingesttest.RealLogs(t) {
		n, err := sp.Split(data)
		if err != nil {
			t.Fatal(err)
		}
		for i := range n {
			_, _ = b.AppendSpans(data, sp.Record(i), sp.Values(i), "f") // bad records are rejected
		}
	}
	rows := make([]int32, b.Len())
	for i := range rows {
		rows[i] = int32((i * 7919) % len(rows)) // a scrambled order: 7919 is prime, 2,900 is not its multiple
	}
	var buf GatherBuf
	sel := b.Select(rows)
	checked := 0
	for col, f := range Schema.Fields() {
		if b.str[col] == nil {
			continue
		}
		all := sel.Strings(col)
		if all.Interned() != (b.str[col].intern != nil) {
			t.Errorf("%s: Interned %v", f.Name, all.Interned())
		}
		if !all.Interned() {
			continue
		}
		got := all.Gather(rows, &buf)
		keyOf, valueOf := map[string]uint64{}, map[uint64]string{}
		for k := range rows {
			v, ok := got.Value(int32(k))
			if !ok {
				continue
			}
			key := got.Key(int32(k))
			if w, seen := keyOf[v]; seen && w != key {
				t.Fatalf("%s: %q has keys %x and %x", f.Name, v, w, key)
			}
			if w, seen := valueOf[key]; seen && w != v {
				t.Fatalf("%s: key %x is %q and %q", f.Name, key, w, v)
			}
			keyOf[v], valueOf[key] = key, v
		}
		if len(keyOf) > 1 {
			checked++
		}
	}
	if checked < 8 {
		t.Errorf("only %d interned columns with two values or more: the test checks too little", checked)
	}
}

// TestGather: a gathered column's item k is the column's item rows[k],
// nulls included, and gathering again into the same buffer reuses it.
func TestGather(t *testing.T) {
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	data := logFile()
	n, err := sp.Split(data)
	if err != nil || n < 3 {
		t.Fatal(n, err)
	}
	for i := range n {
		_, _ = b.AppendSpans(data, sp.Record(i), sp.Values(i), "f") // the file's bad records are rejected
	}
	all := make([]int32, b.Len())
	for i := range all {
		all[i] = int32(len(all) - 1 - i)
	}
	sel := b.Select(all)
	var buf GatherBuf
	nulls := 0
	for col, f := range Schema.Fields() {
		if b.str[col] == nil {
			continue
		}
		plain := sel.Strings(col)
		for _, rows := range [][]int32{all, {all[1], all[0], all[1]}} {
			got := plain.Gather(rows, &buf)
			for k, r := range rows {
				wv, wok := plain.Value(r)
				gv, gok := got.Value(int32(k))
				if gv != wv || gok != wok {
					t.Errorf("%s: gathered item %d is (%q, %v), want row %d's (%q, %v)", f.Name, k, gv, gok, r, wv, wok)
				}
				if !wok {
					nulls++
				}
			}
		}
	}
	if nulls == 0 {
		t.Error("no null met: the test checks no null's gathering")
	}
	if cap(buf.refs) < len(all) {
		t.Errorf("buffer holds %d refs, want the longest gather's %d", cap(buf.refs), len(all))
	}
}

// TestIdentityCacheReuse: a miss reuses the entry it evicts, and its
// memory. Far more identities than the cache holds, in an order that
// returns to evicted ones, across batches, must each come out as their
// own block says.
func TestIdentityCacheReuse(t *testing.T) {
	const ids, rows = 3 * identitySets * identityWays, 40000
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	rng := rand.New(rand.NewPCG(1, 2))
	type want struct{ arn, uarn, principalID, key, session string }
	var expect []want
	check := func() {
		t.Helper()
		for row, w := range expect {
			for col, v := range map[int]string{colPrincipalARN: w.arn, colUserIdentityARN: w.uarn, colPrincipalID: w.principalID,
				colAccessKeyID: w.key, colSessionName: w.session} {
				if got := b.str[col].value(row); got != v {
					t.Fatalf("row %d %s: %q, want %q", row, Schema.Field(col).Name, got, v)
				}
			}
		}
	}
	var recs []string
	flush := func() {
		clear(appendRecords(t, b, &sp, recs)) // the reader reuses its buffer
		recs = recs[:0]
	}
	for r := range rows {
		// Mostly recent identities (hits), sometimes any (misses, evictions).
		p := (r/8 + rng.IntN(16)) % ids
		if rng.IntN(4) == 0 {
			p = rng.IntN(ids)
		}
		w := want{principalID: fmt.Sprintf("AIDA%08d", p), key: fmt.Sprintf("AKIA%08d", p)}
		var ui string
		if p%2 == 0 {
			w.arn = fmt.Sprintf("arn:aws:iam::111122223333:user/u%d", p)
			w.uarn = w.arn
			ui = fmt.Sprintf(`{"type":"IAMUser","arn":%q,"principalId":%q,"accessKeyId":%q,"accountId":"111122223333"}`, w.arn, w.principalID, w.key)
		} else {
			w.session = fmt.Sprintf("session-with-a-longer-name-%d", p)
			w.arn = fmt.Sprintf("arn:aws:iam::111122223333:role/r%d", p)
			w.uarn = fmt.Sprintf("arn:aws:sts::111122223333:assumed-role/r%d/%s", p, w.session)
			ui = fmt.Sprintf(`{"type":"AssumedRole","arn":%q,"principalId":%q,"accessKeyId":%q,"accountId":"111122223333",`+
				`"sessionContext":{"sessionIssuer":{"type":"Role","arn":%q,"accountId":"111122223333"}}}`, w.uarn, w.principalID, w.key, w.arn)
		}
		recs = append(recs, fmt.Sprintf(`{"eventID":"e%d","eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","awsRegion":"us-east-1","recipientAccountId":"111122223333","userIdentity":%s}`, r, ui))
		expect = append(expect, w)
		if len(recs) == 500 {
			flush()
		}
		if r == rows/2 {
			flush()
			check()
			b.Reset()
			expect = expect[:0]
		}
	}
	flush()
	check()
}

// The identity key holds the context a block is resolved in: the root user
// with neither ARN nor account in its block takes both from the record, so
// one block seen under two recipient accounts and in two partitions is
// four identities, however often each comes back.
func TestIdentityKeyHoldsTheContext(t *testing.T) {
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	var recs, want []string
	for r := range 32 {
		// the first 16 change account on every record, the next 16 only
		// the partition: each part of the context alone must change the key
		acct := []string{"111122223333", "444455556666"}[r%2]
		region, partition := "us-east-1", "aws"
		if r%4 >= 2 {
			region, partition = "cn-north-1", "aws-cn"
		}
		if r >= 16 {
			acct = []string{"111122223333", "444455556666"}[r/4%2]
			if r%2 == 1 {
				region, partition = "cn-north-1", "aws-cn"
			} else {
				region, partition = "us-east-1", "aws"
			}
		}
		recs = append(recs, fmt.Sprintf(`{"eventID":"e%d","eventTime":"2024-01-02T03:04:05Z","eventSource":"s3.amazonaws.com","awsRegion":%q,"recipientAccountId":%q,`+
			`"userIdentity":{"type":"Root","principalId":"AIDAEXAMPLE"}}`, r, region, acct))
		want = append(want, "arn:"+partition+":iam::"+acct+":root")
	}
	appendRecords(t, b, &sp, recs)
	for row, w := range want {
		if got := b.str[colPrincipalARN].value(row); got != w {
			t.Errorf("row %d: principal %q, want %q", row, got, w)
		}
	}
}

// Records without a userIdentity (AwsServiceEvent) name the service from
// their event source, each on its own: such an identity is never cached,
// and one after another in a batch must not share cells.
func TestServiceEventsResolveEachTime(t *testing.T) {
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	sources := []string{"kms.amazonaws.com", "sts.amazonaws.com", "sts.amazonaws.com", "s3.amazonaws.com", "kms.amazonaws.com"}
	var recs []string
	for r, src := range sources {
		recs = append(recs, fmt.Sprintf(`{"eventID":"e%d","eventTime":"2024-01-02T03:04:05Z","eventType":"AwsServiceEvent","eventSource":%q,"awsRegion":"us-east-1","recipientAccountId":"111122223333"}`, r, src))
	}
	for range 2 { // the second batch starts a new generation
		appendRecords(t, b, &sp, recs)
		for row, src := range sources {
			if got, kind := b.str[colPrincipalARN].value(row), b.str[colPrincipalKind].value(row); got != src || kind != cloudtrail.KindAWSService {
				t.Errorf("row %d: principal %q (%s), want %q", row, got, kind, src)
			}
		}
		b.Reset()
	}
}

// appendRecords appends records, each valid, as one log file, and returns
// the file.
func appendRecords(t *testing.T, b *Builder, sp *cloudtrail.Splitter, recs []string) []byte {
	t.Helper()
	data := []byte(`{"Records":[` + strings.Join(recs, ",") + `]}`)
	n, err := sp.Split(data)
	if err != nil || n != len(recs) {
		t.Fatal(n, err)
	}
	for i := range n {
		if _, err := b.AppendSpans(data, sp.Record(i), sp.Values(i), "f"); err != nil {
			t.Fatal(err)
		}
	}
	return data
}

// TestFlatMember: the fast path for tlsDetails gives what gjson's Get
// gives whenever it answers, and leaves the other shapes to gjson.
func TestFlatMember(t *testing.T) {
	answered := 0
	for _, raw := range []string{
		`{"tlsVersion":"TLSv1.3","cipherSuite":"TLS_AES_128_GCM_SHA256","clientProvidedHostHeader":"s3.amazonaws.com"}`,
		`{"cipherSuite":"x","clientProvidedHostHeader":"h","tlsVersion":"TLSv1.2"}`,
		`{"tlsVersion":"","cipherSuite":"x"}`,
		`{"tlsVersion":"TLSv1.2","tlsVersion":"TLSv1.3"}`,
		`{"tlsVersion":"TLS\u00761.2"}`,
		`{"tlsVersion":"a\"b"}`,
		`{ "tlsVersion" : "TLSv1.2" }`,
		`{"tlsVersion":1.2}`,
		`{"cipherSuite":"x"}`,
		`{"cipherSuite":"x""tlsVersion":"TLSv1.2"}`,
		`{"cipherSuite":{"a":"b"},"tlsVersion":"TLSv1.2"}`,
		`{"tlsVersion":"TLSv1.2",}`,
		`{"tlsVersion":"TLSv1.2"`,
	} {
		v, ok := flatMember(raw, "tlsVersion")
		if !ok {
			continue
		}
		answered++
		if want := gjson.Get(raw, "tlsVersion"); want.Type != gjson.String || want.Str != v {
			t.Errorf("%s: %q, gjson says %q", raw, v, want.Str)
		}
	}
	if answered != 4 {
		t.Errorf("answered %d of the shapes, want the 4 compact objects of plain strings with the member", answered)
	}
}

// TestFlatResources: whatever resources array the fast path reads, it
// reads as gjson does (each element's first ARN, type and accountId), on
// every resources array of the real logs and on shapes they lack; the
// shapes it declines are left to gjson.
func TestFlatResources(t *testing.T) {
	arrays := map[string]bool{
		`[]`: true, `[{}]`: true, `[{},{}]`: true,
		`[{"ARN":"a","type":"t","accountId":"1"},{"accountId":"2","ARN":"b"}]`: true,
		`[{"ARN":"a","ARN":"b","x":"y"}]`:                                      true,
		`[{"ARN":""}]`:                                                         true,
		`[{"ARN":"a\"b"}]`:                                                     true,
		`[{"ARN":null,"type":"t"}]`:                                            true,
		`[{"ARN":"a"} ]`:                                                       true,
		`["a"]`:                                                                true,
		`[{"ARN":"a",}]`:                                                       true,
		`[{"ARN":"a"},]`:                                                       true,
		`[{"ARN":"a"}`:                                                         true,
		`[{"ARN":"a","type":{"nested":"x"}}]`:                                  true,
		`[{"accountId":"1","type":"AWS::S3::Bucket"}]`:                         true,
	}
	for _, data := range ingesttest.RealLogs(t) {
		gjson.GetBytes(data, "Records").ForEach(func(_, rec gjson.Result) bool {
			if r := rec.Get("resources"); r.IsArray() {
				arrays[r.Raw] = true
			}
			return true
		})
	}
	read, real := 0, 0
	for raw := range arrays {
		got, ok := flatResources(raw, nil)
		if !ok {
			continue
		}
		read++
		if len(raw) > 60 {
			real++
		}
		elems := gjson.Parse(raw).Array()
		if len(got) != len(elems) {
			t.Errorf("%s: %d elements, gjson %d", raw, len(got), len(elems))
			continue
		}
		for i, e := range elems {
			want := [3]string{e.Get("ARN").Str, e.Get("type").Str, e.Get("accountId").Str}
			if got[i] != want {
				t.Errorf("%s element %d: %q, gjson %q", raw, i, got[i], want)
			}
		}
	}
	if read < 8 || real < 20 {
		t.Errorf("the fast path read %d arrays (%d long ones): the test checks too little", read, real)
	}
	for _, raw := range []string{`[{"ARN":"a""type":"t"}]`, `[{"ARN":"a"}{"ARN":"b"}]`, `[{"ARN":"a\"b"}]`, `[{"ARN":null,"type":"t"}]`, `["a"]`, `[{"ARN":"a",}]`, `[{"ARN":"a"}`, `[{"ARN":"a"} ]`} {
		if _, ok := flatResources(raw, nil); ok {
			t.Errorf("%s: the fast path read a shape it must leave to gjson", raw)
		}
	}
}

// FuzzFlat holds the compact-shape readers to gjson on any input: they
// never panic, and whatever valid JSON they answer for, they answer as
// gjson does (the first of a repeated key). In production they only see
// values the splitter validated. Run it longer with
// go test ./ingest/columns -run '^$' -fuzz FuzzFlat.
func FuzzFlat(f *testing.F) {
	for _, seed := range []string{`[]`, `[{}]`, `[{"ARN":"a","type":"t","accountId":"1"},{"accountId":"2","ARN":"b"}]`,
		`[{"ARN":"a","ARN":"b"}]`, `{"tlsVersion":"TLSv1.3","cipherSuite":"x"}`, `{"cipherSuite":"x","tlsVersion":"TLSv1.2","tlsVersion":"b"}`,
		`[{"ARN":"a\"b"}]`, `{"tlsVersion":"a\u0062"}`, `[{"ARN":"a"} ]`, `{"tlsVersion":1}`} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		res, resOK := flatResources(raw, nil)
		tls, tlsOK := flatMember(raw, "tlsVersion")
		if !json.Valid([]byte(raw)) {
			return
		}
		if resOK {
			elems := gjson.Parse(raw).Array()
			if len(res) != len(elems) {
				t.Fatalf("%s: %d elements, gjson %d", raw, len(res), len(elems))
			}
			for i, e := range elems {
				want := [3]string{e.Get("ARN").Str, e.Get("type").Str, e.Get("accountId").Str}
				if res[i] != want {
					t.Fatalf("%s element %d: %q, gjson %q", raw, i, res[i], want)
				}
			}
		}
		if tlsOK {
			if want := gjson.Get(raw, "tlsVersion"); want.Type != gjson.String || want.Str != tls {
				t.Fatalf("%s: tlsVersion %q, gjson %v %q", raw, tls, want.Type, want.Str)
			}
		}
	})
}

// FuzzParseTime: the fast path for CloudTrail's form gives what
// time.Parse gives, acceptance and instant, on any input (a February 30th
// or a 60th second is rejected, not carried into the next month or
// minute).
func FuzzParseTime(f *testing.F) {
	for _, seed := range []string{"2023-07-10T11:42:36Z", "2024-02-29T23:59:59Z", "2023-02-29T00:00:00Z", "2023-04-31T00:00:00Z",
		"2023-07-10T11:42:60Z", "2023-07-10T24:00:00Z", "2023-07-10T11:42:36.123Z", "2023-07-10T11:42:36+02:00", "0000-01-01T00:00:00Z",
		"redacted", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ParseTime(s)
		want, err := time.Parse(time.RFC3339Nano, s)
		if ok != (err == nil) || ok && !got.Equal(want) {
			t.Fatalf("%q: ParseTime %v %v, time.Parse %v %v", s, got, ok, want, err)
		}
		if ok && got.Location() != time.UTC {
			t.Fatalf("%q: %v is not in UTC", s, got)
		}
	})
}

// FuzzAppendSpans feeds any document through the decode path (split, then
// every record into the columns) and holds it to the gjson path on the
// same document: no panic, the same records rejected, the same rows in
// every column. The seeds are logFile's shapes and small real log files.
func FuzzAppendSpans(f *testing.F) {
	f.Add(logFile())
	f.Add([]byte(`{"Records":1,"x":{"Records":[]},"Records":[{"eventID":"a","eventID":"b","eventTime":"2024-01-02T03:04:05Z","userIdentity":{"type":"Root","accountId":"1"}}],"Records":[2]}`))
	for _, data := range ingesttest.RealLogs(f) {
		if len(data) < 3000 {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
		n, err := sp.Split(data)
		if err != nil {
			return // FuzzSplit holds the splitter to encoding/json
		}
		b := NewBuilder(memory.DefaultAllocator)
		for i := range n {
			_, _ = b.AppendSpans(data, sp.Record(i), sp.Values(i), "src")
		}
		got := b.NewRecord()
		defer got.Release()
		// The gjson path, on the records Split reads.
		ref := NewBuilder(memory.DefaultAllocator)
		ingesttest.RecordsArray(data).ForEach(func(_, rec gjson.Result) bool {
			_, _ = ref.Append(rec, "src")
			return true
		})
		want := ref.NewRecord()
		defer want.Release()
		if got.NumRows() != want.NumRows() {
			t.Fatalf("%d rows, the gjson path %d", got.NumRows(), want.NumRows())
		}
		for c := 0; c < int(got.NumCols()); c++ {
			for r := 0; r < int(got.NumRows()); r++ {
				g, w := got.Column(c).ValueStr(r), want.Column(c).ValueStr(r)
				if g != w || got.Column(c).IsNull(r) != want.Column(c).IsNull(r) {
					t.Fatalf("column %s row %d: %q, the gjson path %q", Schema.Field(c).Name, r, g, w)
				}
			}
		}
	})
}

// FuzzClock holds clock.parse, after any earlier time, to ParseTime: the
// day it keeps never lets through a time ParseTime rejects or moves one.
func FuzzClock(f *testing.F) {
	for _, seed := range [][2]string{
		{"2023-07-10T11:42:36Z", "2023-07-10T11:42:37Z"}, {"2023-07-10T11:42:36Z", "2023-07-10T24:00:00Z"},
		{"2023-07-10T11:42:36Z", "2023-07-10T11:60:00Z"}, {"2023-07-10T11:42:36Z", "2023-07-10T1a:00:00Z"},
		{"2023-07-10T11:42:36Z", "2023-07-11T00:00:00Z"}, {"2024-02-29T23:59:59Z", "2024-02-29T00:00:00Z"},
		{"2023-07-10T11:42:36Z", "2023-07-10T11:42:36.5Z"}, {"2023-07-10T11:42:36Z", "2023-07-10T11:42:36+02:00"},
		{"2023-07-10T11:42:36+02:00", "2023-07-10T11:42:36Z"}, {"redacted", "2023-07-10T00:00:00Z"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, prev, s string) {
		var c clock
		c.parse(prev)
		got, ok := c.parse(s)
		want, wok := ParseTime(s)
		if ok != wok || ok && (!got.Equal(want) || got.Location() != time.UTC) {
			t.Fatalf("after %q, %q: clock %v %v, ParseTime %v %v", prev, s, got, ok, want, wok)
		}
	})
}

// TestPrefetch: the prefetch loop (amd64 assembly) reads the refs it is
// given as Go lays them out, and no more; Prefetch clamps any range to the
// items. prefetchRefsSum, the same loop of the assembly as prefetchRefs,
// returns the sum of off+1 over the refs it prefetched, which the test
// compares with prefetchSum, the same in Go: refs read at the wrong
// offsets, with the wrong width or sign, or past the end, change the sum.
// (The compile-time checks in prefetch_amd64.go catch a changed layout
// first; this catches assembly that does not match it.)
func TestPrefetch(t *testing.T) {
	// prefetched is what Prefetch(lo, hi) has the assembly read
	prefetched := func(s Strings, lo, hi int) uint64 {
		refs, ok := s.prefetchRange(lo, hi)
		if !ok {
			return 0
		}
		return prefetchRefsSum(&s.c.data[0], &refs[0], len(refs))
	}
	data := make([]byte, 1<<12)
	// distinct offs whose sums identify the set read; a null, an empty
	// value, an off over 2^31 (zero-extended, not sign-extended), n with
	// its high byte set; then poison that must never be read
	refs := []ref{
		{off: 1, n: 3}, {off: 1 << 4, n: -1}, {off: 1 << 8, n: 0}, {off: 1 << 12, n: 1 << 24},
		{off: 1 << 31, n: 5}, {off: 1 << 20, n: 1}, {off: 0, n: 7}, {off: 3 << 28, n: -1 << 30},
		{off: 7 << 24, n: 2}, {off: 5 << 24, n: 9}, {off: 6 << 24, n: 1}, {off: 1 << 30, n: 4},
	}
	const items = 8 // refs[items:] are the poison
	for lo := 0; lo <= items; lo++ {
		for hi := lo; hi <= items; hi++ {
			var got uint64
			if hi > lo {
				got = prefetchRefsSum(&data[0], &refs[lo], hi-lo)
			}
			if want := prefetchSum(refs[lo:hi]); got != want {
				t.Errorf("prefetchRefs(refs[%d:%d]) read %#x, want %#x", lo, hi, got, want)
			}
		}
	}
	if prefetchSum(refs[:items]) == prefetchSum(refs[:items+1]) {
		t.Fatal("the poison does not change the sum: the test cannot see reads past the end")
	}

	// Prefetch on a column: any range, clamped to its items; never the
	// refs past the slice's length (poison in its capacity)
	col := &strCol{data: data, refs: refs[:items]}
	s := Strings{c: col, refs: refs[:items]}
	for _, r := range [][2]int{{0, 3}, {0, 100}, {2, 3}, {3, 3}, {5, 2}, {40, 80}, {1, 1 << 30}, {items, items + 4}} {
		want := prefetchSum(refs[min(r[0], items):max(min(r[1], items), min(r[0], items))])
		if got := prefetched(s, r[0], r[1]); got != want {
			t.Errorf("Prefetch(%d, %d) read %#x, want %#x", r[0], r[1], got, want)
		}
	}

	// real columns: values, nulls, and a column with no bytes at all
	b := NewBuilder(memory.DefaultAllocator)
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	appendRecords(t, b, &sp, []string{
		`{"eventID":"e0","eventTime":"2024-01-02T03:04:05Z","errorMessage":"denied"}`,
		`{"eventID":"e1","eventTime":"2024-01-02T03:04:06Z","requestParameters":{"bucketName":"b"}}`,
	})
	rows := []int32{1, 0, 1}
	sel := b.Select(rows)
	var buf GatherBuf
	for _, c := range []int{colEventID, colErrorMessage, colRequest, colShared} {
		g := sel.Strings(c).Gather(rows, &buf)
		want := prefetchSum(g.refs)
		if len(g.c.data) == 0 {
			want = 0
		}
		if got := prefetched(g, 0, 1<<30); got != want {
			t.Errorf("%s: Prefetch read %#x, want %#x", Schema.Field(c).Name, got, want)
		}
	}
	if prefetchSum(sel.Strings(colEventID).Gather(rows, &buf).refs) == 0 {
		t.Error("event_id has no values to prefetch: the test no longer covers one")
	}
	if len(b.str[colShared].data) != 0 {
		t.Error("shared_event_id has bytes: the test no longer covers a column with none")
	}
}

// TestRollback: after whole rows past n and a row appended partway (some
// columns only, as a panic inside appendFields leaves it), Rollback(n)
// leaves the builder as if only the first n rows had been appended: the
// next rows land in line, the null counts are right, the record built
// equals one built without the detour, and the identity cache is empty.
func TestRollback(t *testing.T) {
	recs := []string{
		`{"eventID":"e0","eventTime":"2024-01-02T03:04:05Z","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accountId":"1"},"resources":[{"ARN":"arn:aws:s3:::b","type":"AWS::S3::Bucket"}]}`,
		`{"eventID":"e1","eventTime":"2024-01-02T03:04:06Z","errorCode":"AccessDenied","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::1:user/a","accountId":"1"}}`,
		`{"eventID":"e2","eventTime":"2024-01-03T00:00:00Z","resources":[{"ARN":"arn:aws:s3:::c"},{"accountId":"2"}],"readOnly":true}`,
	}
	detour := []string{
		`{"eventID":"x0","eventTime":"2025-06-01T00:00:00Z","userIdentity":{"type":"Root","arn":"arn:aws:iam::9:root"},"resources":[{"ARN":"arn:aws:kms:us-east-1:9:key/k"}],"tlsDetails":{"tlsVersion":"TLSv1.3"}}`,
		`{"eventID":"x1","eventTime":"2025-06-01T00:00:01Z","vpcEndpointId":"vpce-1","readOnly":false}`,
	}
	sp := cloudtrail.Splitter{Slot: Slot, Fields: NumFields}
	want := NewBuilder(memory.DefaultAllocator)
	appendRecords(t, want, &sp, recs)

	got := NewBuilder(memory.DefaultAllocator)
	appendRecords(t, got, &sp, recs[:1])
	appendRecords(t, got, &sp, detour)
	got.str[colEventID].add("partial")
	got.times = append(got.times, 1)
	got.str[colErrorCode].addNull()
	got.bools[colMFA] = append(got.bools[colMFA], 1)
	got.res.arn.add("arn:aws:s3:::partial")
	got.res.typ.addNull()
	got.Rollback(1)
	for _, set := range got.ids.sets {
		for _, w := range set.ws {
			if w != nil {
				t.Fatal("Rollback left entries in the identity cache")
			}
		}
	}
	appendRecords(t, got, &sp, recs[1:])

	if got.Len() != want.Len() {
		t.Fatalf("%d rows, want %d", got.Len(), want.Len())
	}
	for i := range got.str {
		if got.str[i] != nil && got.str[i].nulls != want.str[i].nulls {
			t.Errorf("%s: %d nulls, want %d", Schema.Field(i).Name, got.str[i].nulls, want.str[i].nulls)
		}
	}
	if got.res.nulls != want.res.nulls || got.res.arn.nulls != want.res.arn.nulls || got.res.typ.nulls != want.res.typ.nulls {
		t.Errorf("resources nulls %d/%d/%d, want %d/%d/%d", got.res.nulls, got.res.arn.nulls, got.res.typ.nulls,
			want.res.nulls, want.res.arn.nulls, want.res.typ.nulls)
	}
	g, w := got.NewRecord(), want.NewRecord()
	defer g.Release()
	defer w.Release()
	if !array.RecordEqual(g, w) {
		for i := range int(g.NumCols()) {
			if !array.Equal(g.Column(i), w.Column(i)) {
				t.Errorf("%s: %v, want %v", g.ColumnName(i), g.Column(i), w.Column(i))
			}
		}
	}
}
