package iamstate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Time reads the time forms AWS outputs use: RFC 3339 (the API and the CLI),
// Python's "2006-01-02 15:04:05+00:00" (boto3 dumps such as cloudsplaining's
// and AirIAM's), and epoch seconds (CloudTrail's get-trail-status). It
// writes RFC 3339 in UTC, or null when zero.
type Time struct{ time.Time }

var timeLayouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05-07:00", "2006-01-02 15:04:05.999999-07:00", "2006-01-02T15:04:05-0700", "2006-01-02T15:04:05Z0700"}

// UnmarshalJSON reads a time string, epoch seconds, or null.
func (t *Time) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) || len(b) == 0 {
		return nil
	}
	if b[0] != '"' {
		f, err := strconv.ParseFloat(string(b), 64)
		if err != nil {
			return fmt.Errorf("time %s: %w", b, err)
		}
		sec := int64(f)
		t.Time = time.Unix(sec, int64((f-float64(sec))*1e9)).UTC().Round(time.Millisecond)
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	p, err := ParseTime(s)
	if err != nil {
		return err
	}
	t.Time = p
	return nil
}

// MarshalJSON writes RFC 3339 in UTC, or null for the zero time.
func (t Time) MarshalJSON() ([]byte, error) {
	if t.IsZero() {
		return []byte("null"), nil
	}
	return json.Marshal(t.UTC().Format(time.RFC3339))
}

// ParseTime reads one of the layouts Time accepts, in UTC.
func ParseTime(s string) (time.Time, error) {
	for _, l := range timeLayouts {
		if p, err := time.Parse(l, s); err == nil {
			return p.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q: not RFC 3339", s)
}
