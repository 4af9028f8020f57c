package store_test

import (
	"cmp"
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/iamlens/iamlens/ingest/columns"
	"github.com/iamlens/iamlens/ingest/store"
)

type scanRes struct {
	ARN  string `parquet:"arn,optional"`
	Type string `parquet:"type,optional"`
}

// direct reads columns that are all in the files with the same types, so
// Scan reads them through its projection; converted adds a column no file
// has, which makes Scan fall back to parquet-go's conversion.
type direct struct {
	PrincipalARN      string    `parquet:"principal_arn,optional"`
	EventTime         int64     `parquet:"event_time,timestamp(millisecond)"`
	EventName         string    `parquet:"event_name,optional"`
	MFA               *bool     `parquet:"mfa_authenticated,optional"`
	RequestParameters string    `parquet:"request_parameters,optional"`
	Resources         []scanRes `parquet:"resources,optional,list"`
	EventID           string    `parquet:"event_id"`
}

type converted struct {
	direct
	Absent string `parquet:"absent_column,optional"`
}

func (d direct) String() string {
	mfa := "nil"
	if d.MFA != nil {
		mfa = fmt.Sprint(*d.MFA)
	}
	return fmt.Sprintf("%s %s %d %s mfa=%s res=%v params=%q", d.EventID, d.PrincipalARN, d.EventTime, d.EventName, mfa, d.Resources, d.RequestParameters)
}

// Both read paths give every principal's rows exactly as they were written,
// in small row groups and pages so that reads seek into the middle of
// column chunks, into a reused buffer, with list columns of zero, one and
// several elements and a nullable boolean.
func TestScanProjectionMatchesConversion(t *testing.T) {
	_, rows, _ := invictusEvents(t)
	slices.SortStableFunc(rows, func(a, b columns.Event) int {
		return cmp.Or(strings.Compare(a.PrincipalARN, b.PrincipalARN), cmp.Compare(a.EventTime, b.EventTime))
	})
	want := map[string][]string{}
	multi := 0
	for _, r := range rows {
		d := direct{PrincipalARN: r.PrincipalARN, EventTime: r.EventTime, EventName: r.EventName, MFA: r.MFAAuthenticated,
			RequestParameters: r.RequestParameters, EventID: r.EventID}
		for _, x := range r.Resources {
			d.Resources = append(d.Resources, scanRes{ARN: x.ARN, Type: x.Type})
		}
		if len(r.Resources) > 1 {
			multi++
		}
		want[r.PrincipalARN] = append(want[r.PrincipalARN], d.String())
	}
	if multi == 0 {
		t.Fatal("the sample has no row with several resources")
	}
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p := store.Partition{Account: "111122223333", Date: "2026-01-02"}
	pf, err := st.WriteTemp(context.Background(), p, "b1", 0, columns.SelectEvents(rows), store.WriteOptions{RowGroupRows: 300, PageBytes: 2048})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Publish([]store.PendingFile{pf}); err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(store.Batch{ID: "b1", Files: []string{pf.Final}}); err != nil {
		t.Fatal(err)
	}
	checked := 0
	for arn, w := range want {
		if arn == "" {
			continue
		}
		q := store.Query{Principals: []string{arn}}
		var got, gotConv []string
		if _, err := store.Scan(context.Background(), st, q, func(rs []direct) error {
			for _, r := range rs {
				if r.PrincipalARN == arn {
					got = append(got, r.String())
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := store.Scan(context.Background(), st, q, func(rs []converted) error {
			for _, r := range rs {
				if r.Absent != "" {
					t.Fatalf("absent column read as %q", r.Absent)
				}
				if r.PrincipalARN == arn {
					gotConv = append(gotConv, r.direct.String())
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: projection read\n%s\nwant\n%s", arn, strings.Join(got, "\n"), strings.Join(w, "\n"))
		}
		// parquet-go's conversion reads a null optional *bool as false
		// (v0.32.0); the projection keeps the null. Nothing else differs.
		fold := func(rows []string) []string {
			out := make([]string, len(rows))
			for i, r := range rows {
				out[i] = strings.Replace(r, " mfa=nil ", " mfa=false ", 1)
			}
			return out
		}
		if !reflect.DeepEqual(gotConv, fold(w)) {
			t.Errorf("%s: conversion read\n%s\nwant\n%s", arn, strings.Join(gotConv, "\n"), strings.Join(fold(w), "\n"))
		}
		checked += len(w)
	}
	if checked < 2000 {
		t.Fatalf("checked %d rows", checked)
	}
}
