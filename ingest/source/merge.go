package source

import (
	"context"
	"errors"
	"iter"
	"strings"
	"time"
)

// rangeLister is a lister whose objects listing starts after any key at
// the cost of a request (S3's StartAfter): listing a region folder from a
// day on costs a LIST per 1,000 keys, whatever lies before.
type rangeLister interface{ ranged() bool }

func (s3Lister) ranged() bool { return true }

// regionSpan is the part of a region folder a listing wants: keys after
// after, up to the day folder to (inclusive; "" for no end).
type regionSpan struct {
	region, after, to string
}

// regionRange is where the window (From, To) and the region's cursor
// (Resume, less LateMargin) put the listing of region folder rd.
func regionRange(rd string, f Filter) regionSpan {
	sp := regionSpan{region: rd}
	if !f.From.IsZero() {
		sp.after = rd + f.From.UTC().Format("2006/01/02/")
	}
	if !f.To.IsZero() {
		sp.to = f.To.UTC().Format("2006/01/02/")
	}
	if c, ok := f.Resume[rd]; ok {
		if fromDay, startAfter, ok := resumeFrom(c, f.LateMargin); ok {
			a := rd + fromDay
			if startAfter != "" {
				a = rd + startAfter
			}
			if a > sp.after {
				sp.after = a
			}
		}
	}
	return sp
}

var errStopMerge = errors.New("stop")

// mergeRegions lists the region folders' spans at once and emits their
// objects day by day, each day's regions together (in the order given),
// as the day-folder listing does: an account's day, one partition of the
// dataset, is ingested before the next. Objects outside the date layout
// (below a region folder but not in a day folder) come last.
func mergeRegions(ctx context.Context, l lister, spans []regionSpan, emit func(Object) error) error {
	type stream struct {
		next func() (Object, bool)
		stop func()
		err  *error
		cur  Object
		day  string
		ok   bool
	}
	streams := make([]*stream, len(spans))
	for i, sp := range spans {
		var err error
		seq := iter.Seq[Object](func(yield func(Object) bool) {
			err = l.objects(ctx, sp.region, sp.after, func(o Object) error {
				if sp.to != "" {
					if d := dayOf(sp.region, o.Key); d != "~" && d > strings.TrimSuffix(sp.to, "/") {
						return errStopMerge
					}
				}
				if !yield(o) {
					return errStopMerge
				}
				return nil
			})
			if errors.Is(err, errStopMerge) {
				err = nil
			}
		})
		next, stop := iter.Pull(seq)
		streams[i] = &stream{next: next, stop: stop, err: &err}
	}
	defer func() {
		for _, s := range streams {
			s.stop()
		}
	}()
	advance := func(i int) error {
		s := streams[i]
		if s.cur, s.ok = s.next(); !s.ok {
			return *s.err
		}
		s.day = dayOf(spans[i].region, s.cur.Key)
		return nil
	}
	for i := range streams {
		if err := advance(i); err != nil {
			return err
		}
	}
	for {
		// The earliest day among the streams, then each stream's objects
		// of that day in turn.
		day := ""
		for _, s := range streams {
			if s.ok && (day == "" || s.day < day) {
				day = s.day
			}
		}
		if day == "" {
			return nil
		}
		for i, s := range streams {
			for s.ok && s.day == day {
				if err := ctx.Err(); err != nil {
					return err
				}
				if err := emit(s.cur); err != nil {
					return err
				}
				if err := advance(i); err != nil {
					return err
				}
			}
		}
	}
}

// dayOf is the "YYYY/MM/DD" of a key below the region folder, "~" (after
// every day) for a key outside the date layout.
func dayOf(region, key string) string {
	rest, ok := strings.CutPrefix(key, region)
	if !ok || len(rest) < 11 || rest[10] != '/' {
		return "~"
	}
	if _, err := time.Parse("2006/01/02", rest[:10]); err != nil {
		return "~"
	}
	return rest[:10]
}
