package cloudtrail

import (
	"bytes"
	"fmt"

	"github.com/tidwall/gjson"
)

// Shape is the form a file's records come in.
type Shape int

const (
	// ShapeLog is CloudTrail's own {"Records":[...]}.
	ShapeLog Shape = iota
	// ShapeArray is a bare JSON array of records ([{...},{...}]).
	ShapeArray
	// ShapeLines is newline-delimited records, one JSON object a line.
	ShapeLines
	// ShapeRecord is one record on its own, as the console copies it.
	ShapeRecord
)

// String names the shape for messages.
func (s Shape) String() string {
	return [...]string{"CloudTrail log", "array of records", "records one per line", "single record"}[s]
}

// Normalize reads a file by its content and returns its records as a
// CloudTrail log, {"Records":[...]}: data itself when it is one, otherwise
// a new slice wrapping the bare array, the lines or the single record. A
// record is an object with an eventName or an eventID. Anything else is
// ErrNotLog (valid JSON) or ErrInvalidJSON.
func Normalize(data []byte) ([]byte, Shape, error) {
	if gjson.ValidBytes(data) {
		root := gjson.ParseBytes(data)
		switch {
		case root.IsObject() && root.Get("Records").IsArray():
			return data, ShapeLog, nil
		case root.IsObject() && isRecord(root):
			return wrap(bytes.TrimSpace(data)), ShapeRecord, nil
		case root.IsArray() && isRecordArray(root):
			return append(append([]byte(`{"Records":`), bytes.TrimSpace(data)...), '}'), ShapeArray, nil
		}
		return nil, 0, ErrNotLog
	}
	// Several values, one a line?
	lines := bytes.Split(data, []byte("\n"))
	recs := make([][]byte, 0, len(lines))
	for i, l := range lines {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if !gjson.ValidBytes(l) {
			if len(recs) == 0 {
				return nil, 0, ErrInvalidJSON
			}
			return nil, 0, fmt.Errorf("%w: line %d of what looked like records one per line", ErrInvalidJSON, i+1)
		}
		if !isRecord(gjson.ParseBytes(l)) {
			return nil, 0, fmt.Errorf("%w: line %d is not a CloudTrail record", ErrNotLog, i+1)
		}
		recs = append(recs, l)
	}
	if len(recs) < 2 {
		return nil, 0, ErrInvalidJSON
	}
	return wrap(bytes.Join(recs, []byte(","))), ShapeLines, nil
}

func wrap(recs []byte) []byte {
	out := make([]byte, 0, len(recs)+len(`{"Records":[]}`))
	out = append(out, `{"Records":[`...)
	out = append(out, recs...)
	return append(out, "]}"...)
}

func isRecord(v gjson.Result) bool {
	return v.IsObject() && (v.Get("eventName").Exists() || v.Get("eventID").Exists())
}

// isRecordArray: every element an object, at least one a record.
func isRecordArray(v gjson.Result) bool {
	objects, records := true, false
	v.ForEach(func(_, e gjson.Result) bool {
		objects = e.IsObject()
		records = records || isRecord(e)
		return objects
	})
	return objects && records
}
