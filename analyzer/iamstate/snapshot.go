package iamstate

import (
	"encoding/json"
	"fmt"
	"io"
)

// SnapshotFormat names the layout of the snapshot `iamlens collect` writes
// (package cis defines the whole of it; its "iam" member holds Outputs).
const SnapshotFormat = "iamlens-cis-snapshot/1"

// snapshotIAM is the part of a snapshot this package reads.
type snapshotIAM struct {
	Format      string  `json:"format"`
	AccountID   string  `json:"accountId"`
	Partition   string  `json:"partition"`
	CollectedAt Time    `json:"collectedAt"`
	IAM         Outputs `json:"iam"`
	Errors      []struct {
		Service   string `json:"service"`
		Operation string `json:"operation"`
		Resource  string `json:"resource"`
		Message   string `json:"message"`
	} `json:"errors"`
}

// ReadSnapshot reads the IAM part of an iamlens snapshot (`iamlens
// collect --out FILE`, or one assembled with the AWS CLI): the account, the
// time it was read, the IAM outputs, and the IAM reads that failed.
func ReadSnapshot(r io.Reader) (*Input, error) {
	var s snapshotIAM
	if err := json.NewDecoder(r).Decode(&s); err != nil {
		return nil, fmt.Errorf("decode snapshot: %w", err)
	}
	if s.Format != "" && s.Format != SnapshotFormat {
		return nil, fmt.Errorf("snapshot format %q: this iamlens reads %q", s.Format, SnapshotFormat)
	}
	in := &Input{AccountID: s.AccountID, Partition: s.Partition, CollectedAt: s.CollectedAt.Time, Outputs: s.IAM}
	for _, e := range s.Errors {
		if e.Service != "iam" {
			continue
		}
		subject := e.Resource
		in.Failed = append(in.Failed, Problem{Source: SourceSnapshot, Subject: subject, Message: fmt.Sprintf("iam %s could not be read: %s", e.Operation, e.Message)})
	}
	return in, nil
}
