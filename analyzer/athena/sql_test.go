package athena

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/analyzer"
	"github.com/iamlens/iamlens/ingest/columns"
)

func TestRollupSQLQuotes(t *testing.T) {
	sql := RollupSQL(`"db"."t"`, analyzer.RollupQuery{Principals: []string{"arn:aws:iam::1:user/o'brien"}, Accounts: []string{"1'2"}}, []string{columns.FacetCall}, []string{"ignored"})
	for _, want := range []string{`'arn:aws:iam::1:user/o''brien'`, `"account" IN ('1''2')`} {
		if !strings.Contains(sql, want) {
			t.Errorf("SQL lacks %s:\n%s", want, sql)
		}
	}
	if strings.Contains(sql, "ignored") {
		t.Errorf("the store's accounts are named although the query names its own:\n%s", sql)
	}
}

// TestRollupColumnsFromSchema: the query's columns are RollupRow's, in
// order, and decodeRow fills every one.
func TestRollupColumnsFromSchema(t *testing.T) {
	h := resultHeader()
	if len(h) != len(rollupColumns()) || h[0] != columns.Facet || h[len(h)-1] != columns.LastSeen {
		t.Fatalf("header %v", h)
	}
	vals := make([]*string, len(h))
	for i, c := range rollupColumns() {
		v := "7"
		switch c.kind {
		case keyString:
			v = "v" + h[i]
		case keyList:
			v = `[{"arn":"a","type":"t","account_id":"1"}]`
		}
		vals[i] = &v
	}
	var r columns.RollupRow
	if err := decodeRow(vals, &r); err != nil {
		t.Fatal(err)
	}
	if r.Facet != "vfacet" || r.LastSeen != 7 || r.Calls != 7 || r.VPCEndpointID != "vvpc_endpoint_id" || len(r.Resources) != 1 || r.Resources[0].AccountID != "1" {
		t.Errorf("decoded %+v", r)
	}
	null := append([]*string(nil), vals...)
	null[len(null)-1] = nil
	if err := decodeRow(null, &r); err == nil {
		t.Error("a null count decoded")
	}
}

func TestQueryTooLong(t *testing.T) {
	var arns []string
	for i := range 5000 {
		arns = append(arns, fmt.Sprintf("arn:aws:iam::111122223333:role/service-role/a-rather-long-role-name-%04d", i))
	}
	e := &Engine{q: nil, from: `"db"."t"`}
	err := e.ReadRollup(context.Background(), analyzer.RollupQuery{Principals: arns}, nil, func([]columns.RollupRow) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "5000 principal(s)") || !strings.Contains(err.Error(), "262144") {
		t.Fatalf("error %v", err)
	}
}
