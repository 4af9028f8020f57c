package analyzer

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/iamlens/iamlens/analyzer/actionmap"
	"github.com/iamlens/iamlens/ingest"
	"github.com/iamlens/iamlens/ingest/ingesttest"
	"github.com/iamlens/iamlens/ingest/source"
	"github.com/iamlens/iamlens/ingest/store"
)

// TestNotFoundOutsideWindow: a principal with events only outside the
// window is a NotFoundError that names the window and the principal's ARN
// in Elsewhere; an account with no events is an AccountError naming the
// accounts there are, not store.ErrEmpty.
func TestNotFoundOutsideWindow(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src, err := source.NewDir(ingesttest.Sample(t))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.Run(context.Background(), src, st, ingest.Options{}); err != nil {
		t.Fatal(err)
	}
	m := MapperFunc(func(*actionmap.Call) actionmap.Result { return actionmap.Result{Status: actionmap.Unmapped} })
	benjamin := "arn:aws:iam::123837392027:user/benjamin"
	from := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, p := range []string{"benjamin", benjamin, "benj*"} {
		_, _, err := Analyze(context.Background(), st, Query{Principals: []string{p}, From: from}, m, Options{})
		var nf *NotFoundError
		if !errors.As(err, &nf) || !slices.Equal(nf.Elsewhere, []string{benjamin}) || !nf.From.Equal(from) ||
			err.Error() != `no events of principal "`+p+`" from 2026-01-01 to the end of the dataset` {
			t.Errorf("%s: %v %+v", p, err, nf)
		}
	}
	// a principal nobody has, in or out of the window
	_, _, err = Analyze(context.Background(), st, Query{Principals: []string{"nobody"}}, m, Options{})
	var nf *NotFoundError
	if !errors.As(err, &nf) || len(nf.Elsewhere) != 0 || nf.From.IsZero() {
		t.Errorf("nobody: %v %+v", err, nf)
	}

	_, _, err = Analyze(context.Background(), st, Query{Principals: []string{"benjamin"}, Accounts: []string{"111111111111"}}, m, Options{})
	var ae *AccountError
	if !errors.As(err, &ae) || errors.Is(err, store.ErrEmpty) || !strings.Contains(err.Error(), "it holds 123837392027") {
		t.Errorf("--account: %v", err)
	}
	first, _ := FirstDay(st, nil)
	last, _ := LastDay(st, nil)
	if day := time.Date(2023, 7, 10, 0, 0, 0, 0, time.UTC); !first.Equal(day) || !last.Equal(day) {
		t.Errorf("days %s to %s", first, last)
	}
}
